package io.hoist.broker.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as operators write them: {@code 0}, {@code 4096}, {@code 512KiB}, {@code 64MiB}, {@code 1GiB}, {@code 2TiB}. */
public final class ByteSizeFormat {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,15})\\s*(B|KiB|MiB|GiB|TiB)?");
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

    private ByteSizeFormat() {
    }

    public static long parse(String text) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text
                    + "' is not a size: write bytes, or a number and a binary unit, like 512KiB, 64MiB or 1GiB");
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2) == null ? "B" : m.group(2)) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            case "TiB" -> 40;
            default -> 0;
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        return n << shift;
    }

    /** The largest unit that writes the size exactly: 256MiB, 1536KiB, 1000. */
    public static String format(long bytes) {
        int unit = 0;
        while (unit < UNITS.length - 1 && bytes != 0 && bytes % 1024 == 0) {
            bytes /= 1024;
            unit++;
        }
        return unit == 0 ? Long.toString(bytes) : bytes + UNITS[unit];
    }
}
