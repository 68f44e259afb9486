package io.hoist.broker.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hoist.sdk.ConnectionSecurity;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.JobServiceGrpc;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.TimeUnit;

/**
 * What every client command shares: where the broker is ({@code --broker}), how to print
 * ({@code --json}), and how a failed call is reported (the broker's status and message, exit 1).
 */
public final class BrokerConnection {
    @Option(names = "--broker", paramLabel = "HOST:PORT", defaultValue = "${env:HOIST_BROKER:-localhost:7070}",
            description = "The broker's gRPC address. Env HOIST_BROKER. Default: ${DEFAULT-VALUE}")
    String broker;

    @Option(names = "--json", description = "Print JSON (protobuf's JSON mapping) instead of a table.")
    boolean json;

    @CommandLine.Mixin
    ClientSecurity security;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    private ManagedChannel channel;
    private CallCredentials token;

    ManagedChannel channel() {
        if (channel == null) {
            int colon = broker.lastIndexOf(':');
            if (colon <= 0 || colon == broker.length() - 1) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--broker must be HOST:PORT, like localhost:7070; got '" + broker + "'");
            }
            int port;
            try {
                port = Integer.parseInt(broker.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--broker port is not a number: '" + broker + "'");
            }
            ConnectionSecurity s = security.toSecurity();
            channel = NettyChannelBuilder.forAddress(broker.substring(0, colon), port, s.channelCredentials()).build();
            token = s.callCredentials().orElse(null);
        }
        return channel;
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin() {
        return AdminServiceGrpc.newBlockingStub(channel()).withCallCredentials(token).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    JobServiceGrpc.JobServiceBlockingStub jobs() {
        return JobServiceGrpc.newBlockingStub(channel()).withCallCredentials(token).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    void printJson(MessageOrBuilder message) {
        try {
            out().println(JsonFormat.printer().print(message));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** Runs a call; a failure prints what the broker said and what to do, and exits 1. */
    int call(Callable call) {
        try {
            call.run();
            return 0;
        } catch (StatusRuntimeException e) {
            PrintWriter err = spec.commandLine().getErr();
            switch (e.getStatus().getCode()) {
                case UNAVAILABLE -> err.println("hoist: cannot reach the broker at " + broker
                        + " (" + e.getStatus().getDescription() + "). Is it running? Set --broker or HOIST_BROKER."
                        + (security.tls || security.tlsCa != null ? "" : " If it serves TLS, give --tls-ca FILE or --tls."));
                case DEADLINE_EXCEEDED -> err.println("hoist: the broker at " + broker + " did not answer within 10 s");
                case UNAUTHENTICATED -> err.println("hoist: UNAUTHENTICATED: " + e.getStatus().getDescription()
                        + " (set HOIST_TOKEN or --token)");
                default -> err.println("hoist: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
            }
            err.flush();
            return 1;
        } finally {
            if (channel != null) {
                channel.shutdownNow();
                channel = null;
            }
        }
    }

    /** A client call that may throw gRPC's status exception. */
    @FunctionalInterface
    interface Callable {
        void run();
    }
}
