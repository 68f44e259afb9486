package io.hoist.broker.auth;

import java.util.regex.Pattern;

/**
 * A glob over queue names: {@code *} matches any run of characters (dots included), {@code ?}
 * one character, everything else itself. {@code emails.*} matches {@code emails.welcome}.
 */
public record QueuePattern(String glob, Pattern regex) {

    public static QueuePattern of(String glob) {
        if (glob == null || glob.isEmpty() || !glob.matches("[A-Za-z0-9._*?-]{1,128}")) {
            throw new IllegalArgumentException("queue pattern '" + glob
                    + "' must be 1-128 characters of letters, digits, '.', '_', '-' and the wildcards '*' and '?'");
        }
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return new QueuePattern(glob, Pattern.compile(re.toString()));
    }

    public boolean matches(String queue) {
        return regex.matcher(queue).matches();
    }

    @Override
    public String toString() {
        return glob;
    }
}
