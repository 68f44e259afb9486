package io.hoist.broker.grpc;

import com.github.f4b6a3.ulid.UlidFactory;
import io.grpc.BindableService;
import io.hoist.broker.config.BrokerConfig;
import io.hoist.broker.runtime.EngineLoop;
import io.hoist.broker.store.Store;

import java.util.List;

/** The broker's gRPC services over one engine loop. */
public final class GrpcApi {
    private GrpcApi() {
    }

    public static List<BindableService> services(EngineLoop loop, Store store, BrokerConfig config) {
        UlidFactory ulids = UlidFactory.newMonotonicInstance();
        RequestValidator requests = new RequestValidator(config.maxBatch(), config.maxPayloadBytes(),
                () -> ulids.create().toString());
        EngineCalls calls = new EngineCalls(loop);
        return List.of(
                new JobGrpcService(calls, requests, loop),
                new WorkerGrpcService(calls, requests, config.heartbeatInterval().toMillis(),
                        config.sessionTimeout().toMillis()),
                new AdminGrpcService(calls, requests, store));
    }
}
