package io.hoist.sdk.internal;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hoist.proto.v1.EnqueueStreamRequest;
import io.hoist.proto.v1.EnqueueStreamResponse;
import io.hoist.proto.v1.EnqueuedJob;
import io.hoist.proto.v1.JobSpec;
import io.hoist.sdk.BrokerError;
import io.hoist.sdk.BrokerUnavailableException;
import io.hoist.sdk.HoistException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asynchronous enqueues over one {@code EnqueueStream}: each batch is a request with its own id,
 * answered by the broker once durable, so many batches share one HTTP/2 stream instead of
 * paying for a call each. At most {@code window} batches are unanswered; {@link #submit} blocks
 * while the window is full (backpressure). A broken stream fails its unanswered batches (as
 * {@link BrokerUnavailableException}) and the next submit opens a new one. Thread-safe.
 */
public final class EnqueuePipeline implements AutoCloseable {
    private final BrokerConnection connection;
    private final Duration answerTimeout;
    private final Semaphore window;
    private long nextId;       // guarded by this
    private Stream stream;     // guarded by this; null until the first submit or after a failure

    public EnqueuePipeline(BrokerConnection connection, int window, Duration answerTimeout) {
        this.connection = connection;
        this.window = new Semaphore(window);
        this.answerTimeout = answerTimeout;
    }

    /**
     * Sends one batch; the future completes with one EnqueuedJob per spec once the broker has
     * stored them, or with the {@link HoistException} the same unary call would have raised.
     */
    public CompletableFuture<List<EnqueuedJob>> submit(List<JobSpec> specs) throws InterruptedException {
        window.acquire();
        CompletableFuture<List<EnqueuedJob>> answer = new CompletableFuture<>();
        synchronized (this) {
            if (stream == null) {
                stream = new Stream();
            }
            Stream s = stream;
            long id = ++nextId;
            s.pending.put(id, answer);
            answer.whenComplete((jobs, failure) -> {
                s.pending.remove(id);
                window.release();
            });
            s.requests.onNext(EnqueueStreamRequest.newBuilder().setRequestId(id).addAllJobs(specs).build());
        }
        answer.orTimeout(answerTimeout.toMillis(), TimeUnit.MILLISECONDS);
        return answer.exceptionallyCompose(t -> t instanceof TimeoutException
                ? CompletableFuture.failedFuture(new BrokerUnavailableException(new BrokerError(
                        Status.Code.DEADLINE_EXCEEDED, "", "no answer to the enqueue within " + answerTimeout.toMillis()
                        + " ms; it may or may not have been stored (retry with the same job_id to be sure)", Map.of()), t))
                : CompletableFuture.failedFuture(t));
    }

    /** Ends the stream after the answers still due (or the answer timeout). */
    @Override
    public void close() {
        Stream s;
        synchronized (this) {
            s = stream;
            stream = null;
        }
        if (s != null) {
            s.requests.onCompleted();
            CompletableFuture.allOf(s.pending.values().toArray(CompletableFuture[]::new))
                    .completeOnTimeout(null, answerTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .exceptionally(t -> null)
                    .join();
        }
    }

    private synchronized void broken(Stream s) {
        if (stream == s) {
            stream = null; // the next submit opens a new stream
        }
    }

    /** One stream and the answers it still owes. */
    private final class Stream implements StreamObserver<EnqueueStreamResponse> {
        final Map<Long, CompletableFuture<List<EnqueuedJob>>> pending = new ConcurrentHashMap<>();
        final StreamObserver<EnqueueStreamRequest> requests;

        Stream() {
            requests = connection.jobsStreaming().enqueueStream(this);
        }

        @Override
        public void onNext(EnqueueStreamResponse r) {
            CompletableFuture<List<EnqueuedJob>> answer = pending.get(r.getRequestId());
            if (answer == null) {
                return; // timed out already
            }
            if (r.hasError()) {
                answer.completeExceptionally(StatusErrors.toException(StatusErrors.fromStreamError(r.getError())));
            } else {
                answer.complete(r.getJobsList());
            }
        }

        @Override
        public void onError(Throwable t) {
            broken(this);
            Status status = Status.fromThrowable(t);
            // only the broker cancels this stream (this side half-closes it): it went away, say at shutdown
            StatusRuntimeException e = status.getCode() == Status.Code.CANCELLED
                    ? Status.UNAVAILABLE.withDescription("the broker closed the enqueue stream: " + status.getDescription())
                    .asRuntimeException()
                    : t instanceof StatusRuntimeException s ? s : status.asRuntimeException();
            if (StatusErrors.isTransient(e)) {
                connection.connectAtNextCall();
            }
            HoistException failure = StatusErrors.toException(e);
            pending.values().forEach(f -> f.completeExceptionally(failure));
        }

        @Override
        public void onCompleted() {
            broken(this);
            HoistException failure = StatusErrors.toException(Status.UNAVAILABLE
                    .withDescription("the broker ended the enqueue stream before answering").asRuntimeException());
            pending.values().forEach(f -> f.completeExceptionally(failure));
        }
    }
}
