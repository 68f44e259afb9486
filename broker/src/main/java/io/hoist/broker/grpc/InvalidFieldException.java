package io.hoist.broker.grpc;

/** A request field broke its rules; answered as INVALID_ARGUMENT naming the field. */
final class InvalidFieldException extends RuntimeException {
    private final String field;

    InvalidFieldException(String field, String problem) {
        super(field + ": " + problem, null, false, false);
        this.field = field;
    }

    String field() {
        return field;
    }
}
