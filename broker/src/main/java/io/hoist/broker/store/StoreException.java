package io.hoist.broker.store;

/** The store refused or failed a read or write. */
public class StoreException extends RuntimeException {
    private final boolean noSpace;

    public StoreException(String message, Throwable cause, boolean noSpace) {
        super(message, cause);
        this.noSpace = noSpace;
    }

    /** The disk is full (the write may succeed once space is freed). */
    public boolean isNoSpace() {
        return noSpace;
    }
}
