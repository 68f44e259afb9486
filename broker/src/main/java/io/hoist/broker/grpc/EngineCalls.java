package io.hoist.broker.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hoist.broker.engine.Command;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.runtime.EngineLoop;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What every RPC does: build the command (validation errors become INVALID_ARGUMENT), submit it
 * to the engine, and when the engine answers, send the mapped reply or the mapped error.
 */
final class EngineCalls {
    private final EngineLoop loop;

    EngineCalls(EngineLoop loop) {
        this.loop = loop;
    }

    /**
     * @param command builds (and validates) the command
     * @param reply   maps the engine's answer; called only for the outcome type {@code type}
     */
    <O extends Outcome, R> void call(StreamObserver<R> out, Supplier<Command> command, Class<O> type,
                                     Function<O, R> reply) {
        Command c;
        try {
            c = command.get();
        } catch (InvalidFieldException e) {
            out.onError(StatusMapper.invalid(e));
            return;
        }
        answer(out, loop.submit(c), type, reply);
    }

    /** A long-poll lease: the future is the ticket the engine answers through when it wakes. */
    <O extends Outcome, R> void lease(StreamObserver<R> out, Function<Object, Command> command, Class<O> type,
                                      Function<O, R> reply) {
        CompletableFuture<Outcome> caller = new CompletableFuture<>();
        Command c;
        try {
            c = command.apply(caller);
        } catch (InvalidFieldException e) {
            out.onError(StatusMapper.invalid(e));
            return;
        }
        if (out instanceof ServerCallStreamObserver<R> server) {
            // a client that goes away while parked must not be handed jobs
            server.setOnCancelHandler(() -> {
                if (!caller.isDone()) {
                    loop.submit(new Command.Unpark(caller));
                }
            });
        }
        answer(out, loop.submit(c, caller), type, reply);
    }

    private static <O extends Outcome, R> void answer(StreamObserver<R> out, CompletableFuture<Outcome> future,
                                                       Class<O> type, Function<O, R> reply) {
        future.whenComplete((outcome, failure) -> {
            if (out instanceof ServerCallStreamObserver<R> server && server.isCancelled()) {
                return; // the client went away (a deadline, or it closed its channel)
            }
            try {
                if (failure != null) {
                    out.onError(StatusMapper.failure(failure));
                } else if (outcome instanceof Outcome.Rejected r) {
                    out.onError(StatusMapper.rejected(r));
                } else {
                    out.onNext(reply.apply(type.cast(outcome)));
                    out.onCompleted();
                }
            } catch (RuntimeException e) {
                out.onError(StatusMapper.failure(e));
            }
        });
    }
}
