package io.hoist.broker.store;

/**
 * A write refused before it was tried because the disk is full or almost full. Its message is
 * meant for the client: it says that nothing was stored and when to retry.
 */
public final class DiskFullException extends StoreException {

    public DiskFullException(String message) {
        super(message, null, true);
    }
}
