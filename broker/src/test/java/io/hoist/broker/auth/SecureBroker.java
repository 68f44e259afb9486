package io.hoist.broker.auth;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.config.SecurityConfig;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.JobServiceGrpc;
import io.hoist.proto.v1.WorkerServiceGrpc;
import io.hoist.sdk.ConnectionSecurity;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real broker on loopback with the given security settings, and channels to it made the way a
 * client would (the SDK's {@link ConnectionSecurity}); closes every channel it made.
 */
final class SecureBroker implements AutoCloseable {
    private final BrokerServer server;
    private final List<ManagedChannel> channels = new ArrayList<>();

    private SecureBroker(BrokerServer server) {
        this.server = server;
    }

    static SecureBroker start(Path dataDir, SecurityConfig security) throws IOException, InterruptedException {
        return new SecureBroker(new BrokerServer(BrokerConfig.defaults(dataDir).withPorts(0, 0).withSecurity(security),
                Clock.systemUTC()).start());
    }

    int grpcPort() {
        return server.grpcPort();
    }

    int httpPort() {
        return server.httpPort();
    }

    ManagedChannel channel(ConnectionSecurity security) {
        ManagedChannel c = NettyChannelBuilder.forAddress("localhost", server.grpcPort(), security.channelCredentials()).build();
        channels.add(c);
        return c;
    }

    JobServiceGrpc.JobServiceStub jobsStreaming(ConnectionSecurity s) {
        return JobServiceGrpc.newStub(channel(s)).withCallCredentials(s.callCredentials().orElse(null));
    }

    WorkerServiceGrpc.WorkerServiceStub workersStreaming(ConnectionSecurity s) {
        return WorkerServiceGrpc.newStub(channel(s)).withCallCredentials(s.callCredentials().orElse(null));
    }

    JobServiceGrpc.JobServiceBlockingStub jobs(ConnectionSecurity s) {
        return JobServiceGrpc.newBlockingStub(channel(s)).withCallCredentials(s.callCredentials().orElse(null))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    WorkerServiceGrpc.WorkerServiceBlockingStub workers(ConnectionSecurity s) {
        return WorkerServiceGrpc.newBlockingStub(channel(s)).withCallCredentials(s.callCredentials().orElse(null))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin(ConnectionSecurity s) {
        return AdminServiceGrpc.newBlockingStub(channel(s)).withCallCredentials(s.callCredentials().orElse(null))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** An HTTPS client context trusting only this PEM CA. */
    static SSLContext trusting(Path caPem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    @Override
    public void close() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
        server.close();
    }
}
