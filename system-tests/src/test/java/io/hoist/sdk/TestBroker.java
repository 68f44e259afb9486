package io.hoist.sdk;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.hoist.broker.BrokerServer;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.proto.v1.AdminServiceGrpc;
import io.hoist.proto.v1.JobState;
import io.hoist.proto.v1.ListJobsRequest;
import io.hoist.proto.v1.ListWorkersRequest;
import io.hoist.proto.v1.QueueConfig;
import io.hoist.proto.v1.UpdateQueueRequest;
import io.hoist.proto.v1.WorkerInfo;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real broker, in-process, on a free port, with its data in a temp dir; restartable on the same port. */
final class TestBroker implements AutoCloseable {
    private BrokerConfig config;
    private BrokerServer server;
    private ManagedChannel adminChannel;

    private TestBroker(BrokerConfig config) throws Exception {
        this.server = new BrokerServer(config, Clock.systemUTC()).start();
        this.config = config.withPorts(server.grpcPort(), 0); // a restart binds the same port
    }

    static TestBroker start(Path dataDir) throws Exception {
        return new TestBroker(BrokerConfig.defaults(dataDir).withPorts(0, 0));
    }

    /** With short sessions, so that tests see expiry and heartbeats quickly. */
    static TestBroker start(Path dataDir, Duration sessionTimeout, Duration heartbeatInterval) throws Exception {
        return new TestBroker(BrokerConfig.defaults(dataDir).withPorts(0, 0)
                .withSessionTimeout(sessionTimeout, heartbeatInterval));
    }

    String target() {
        return "127.0.0.1:" + config.grpcPort();
    }

    HoistClient client() {
        return HoistClient.builder().target(target()).build();
    }

    /** Stops the broker (SIGTERM-like: it finishes the calls in flight) and starts it again on the same data and port. */
    void restart() throws Exception {
        stop();
        startAgain();
    }

    void stop() {
        server.close();
    }

    /** After {@link #stop()}: the same data dir, the same port. */
    void startAgain() throws Exception {
        server = new BrokerServer(config, Clock.systemUTC()).start();
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin() {
        if (adminChannel == null) {
            adminChannel = Grpc.newChannelBuilder(target(), InsecureChannelCredentials.create()).build();
        }
        return AdminServiceGrpc.newBlockingStub(adminChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    void setMaxDepth(String queue, long maxDepth) {
        admin().updateQueue(UpdateQueueRequest.newBuilder().setName(queue)
                .setConfig(QueueConfig.newBuilder().setMaxDepth(maxDepth)).build());
    }

    /** How many of the queue's jobs are in this state (up to 1,000). */
    int count(String queue, JobState state) {
        return admin().listJobs(ListJobsRequest.newBuilder().setQueue(queue).setState(state).setPageSize(1_000).build())
                .getJobsCount();
    }

    /** The broker's Prometheus text from its HTTP port. */
    String metrics() throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    List<WorkerInfo> workers() {
        return admin().listWorkers(ListWorkersRequest.getDefaultInstance()).getWorkersList();
    }

    @Override
    public void close() {
        if (adminChannel != null) {
            adminChannel.shutdownNow();
        }
        server.close();
    }
}
