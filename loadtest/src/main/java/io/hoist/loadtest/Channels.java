package io.hoist.loadtest;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

import java.util.concurrent.TimeUnit;

/** gRPC channels for the raw-RPC parts of the scenarios. */
final class Channels {
    private Channels() {
    }

    /**
     * A plaintext channel whose callbacks run on the event loop: they only count and release permits,
     * and gRPC's default executor would cost the client several times the broker's own ceiling.
     */
    static ManagedChannel open(String target) {
        return ManagedChannelBuilder.forTarget(target).usePlaintext().directExecutor()
                .maxInboundMessageSize(64 << 20).build();
    }

    /** Opens the connection now and waits for it, so that a measured run does not time the TCP handshake. */
    static ManagedChannel openConnected(String target) {
        ManagedChannel channel = open(target);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (channel.getState(true) != io.grpc.ConnectivityState.READY && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return channel; // not ready after 5 s: the calls will say why
    }

    static void close(ManagedChannel channel) {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) channel.shutdownNow();
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    static com.google.protobuf.Duration millis(long ms) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000).build();
    }
}
