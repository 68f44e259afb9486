package io.hoist.sdk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.Objects;

/**
 * The default codec: JSON through Jackson. Records, POJOs, maps and lists work as they are.
 * The default mapper registers the Jackson modules found on the class path (e.g. java.time
 * support when jackson-datatype-jsr310 is there) and ignores unknown properties, so that a
 * producer can add a field before every worker knows it.
 */
public final class JsonCodec implements PayloadCodec {
    private final ObjectMapper mapper;

    public JsonCodec() {
        this(new ObjectMapper().findAndRegisterModules()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES));
    }

    /** With a mapper configured by the application; it must not be reconfigured afterwards. */
    public JsonCodec(ObjectMapper mapper) {
        this.mapper = Objects.requireNonNull(mapper, "mapper");
    }

    @Override
    public byte[] encode(Object value) {
        if (value instanceof byte[] raw) {
            return raw;
        }
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode a " + typeName(value) + " as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    @Override
    public <T> T decode(byte[] bytes, Class<T> type) {
        if (type == byte[].class) {
            return type.cast(bytes);
        }
        try {
            return mapper.readValue(bytes, type);
        } catch (IOException e) {
            String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new IllegalArgumentException("cannot read the payload (" + bytes.length + " bytes) as a "
                    + type.getName() + ": " + detail, e);
        }
    }

    private static String typeName(Object value) {
        return value == null ? "null" : value.getClass().getName();
    }
}
