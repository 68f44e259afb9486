package io.hoist.broker.grpc;

import com.github.f4b6a3.ulid.UlidFactory;
import io.grpc.BindableService;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.broker.store.Store;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The broker's gRPC services over one engine loop. */
public final class GrpcApi {
    private final List<BindableService> services;
    private final Set<WorkerStream> workerStreams = ConcurrentHashMap.newKeySet();

    public GrpcApi(EngineLoop loop, Store store, BrokerConfig config) {
        UlidFactory ulids = UlidFactory.newMonotonicInstance();
        RequestValidator requests = new RequestValidator(config.maxBatch(), config.maxPayloadBytes(),
                () -> ulids.create().toString());
        EngineCalls calls = new EngineCalls(loop);
        this.services = List.of(
                new JobGrpcService(calls, requests, loop),
                new WorkerGrpcService(calls, loop, requests, workerStreams, config.heartbeatInterval().toMillis(),
                        config.sessionTimeout().toMillis()),
                new AdminGrpcService(calls, requests, store));
    }

    public List<BindableService> services() {
        return services;
    }

    /**
     * Ends the open WorkerStreams with UNAVAILABLE, once the engine has stopped: a stream with no
     * lease in the engine (its worker's slots all busy) would otherwise hold the server's shutdown.
     */
    public void endWorkerStreams() {
        workerStreams.forEach(WorkerStream::shutDown);
    }
}
