package io.hoist.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What a scenario measured: printed as an aligned two-column table, or as one JSON object for machines. */
public final class Summary {

    private record Row(String key, Object value) {
    }

    private final List<Row> rows = new ArrayList<>();

    /** Adds a row; values are numbers or strings, keys are snake_case (they are the JSON names too). */
    public Summary put(String key, Object value) {
        rows.add(new Row(key, value));
        return this;
    }

    public Object get(String key) {
        return rows.stream().filter(r -> r.key.equals(key)).map(Row::value).findFirst().orElse(null);
    }

    public String toTable() {
        int width = rows.stream().mapToInt(r -> r.key.length()).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-" + width + "s  %s%n", r.key, tableValue(r.value)));
        }
        return sb.toString();
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        for (Row r : rows) {
            if (sb.length() > 1) sb.append(',');
            sb.append(jsonString(r.key)).append(':').append(jsonValue(r.value));
        }
        return sb.append('}').toString();
    }

    /** Thousands separated for counts, three decimals for measured values. */
    static String tableValue(Object v) {
        if (v instanceof Long || v instanceof Integer) return String.format(Locale.ROOT, "%,d", ((Number) v).longValue());
        if (v instanceof Double d) return String.format(Locale.ROOT, "%,.3f", d);
        return String.valueOf(v);
    }

    static String jsonValue(Object v) {
        if (v instanceof Double d) return d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.3f", d);
        if (v instanceof Number) return v.toString();
        if (v instanceof Boolean) return v.toString();
        return v == null ? "null" : jsonString(v.toString());
    }

    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Rounds to three decimals: the JSON and the table show no more. */
    static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
