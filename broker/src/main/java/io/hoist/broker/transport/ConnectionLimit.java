package io.hoist.broker.transport;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code --max-connections}: the gRPC server's listening socket closes each accepted connection
 * past the limit before gRPC sees it, so a flood of connections cannot use up the broker's memory
 * or file descriptors. gRPC offers no hook for this, so the server gets its own event loops and a
 * listening channel with a gate in front of netty's acceptor; this object owns those loops.
 */
public final class ConnectionLimit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Netty's own setting for its event loops, relocated with gRPC's copy of Netty. */
    static final String IO_THREADS_PROPERTY = "io.grpc.netty.shaded.io.netty.eventLoopThreads";

    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final boolean epoll = Epoll.isAvailable();
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private long lastWarnNanos;
    private long refusedSinceWarn;

    public ConnectionLimit(int max) {
        this.max = max;
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("hoist-grpc-accept", true), io);
        this.workers = new MultiThreadIoEventLoopGroup(ioThreads(), new DefaultThreadFactory("hoist-grpc-io", true), io);
    }

    /**
     * Transport threads: half the cores, at least one, where netty and gRPC take twice the cores.
     * The engine and sync threads need cores too: on 2 cores, one transport thread instead of four
     * took W3's p99 from 3.0–3.3 to 2.3–2.5 ms, W2 no slower (docs/benchmarks.md). Netty's own
     * property {@value #IO_THREADS_PROPERTY} still sets the number.
     */
    static int ioThreads() {
        return ioThreads(Integer.getInteger(IO_THREADS_PROPERTY, 0), Runtime.getRuntime().availableProcessors());
    }

    /** @param set the property's value, 0 when unset */
    static int ioThreads(int set, int cores) {
        return set > 0 ? set : Math.max(1, cores / 2);
    }

    /** Makes {@code builder}'s server use these loops and the gated listening channel. */
    public NettyServerBuilder applyTo(NettyServerBuilder builder) {
        return builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelFactory(() -> {
            ServerChannel ch = epoll ? new EpollServerSocketChannel() : new NioServerSocketChannel();
            ch.pipeline().addLast(new Gate()); // added before ServerBootstrap's acceptor, so it sees each connection first
            return ch;
        });
    }

    /** Connections open now. */
    public int open() {
        return open.get();
    }

    /** Call after the gRPC server has terminated: gRPC leaves loops it was given running. */
    @Override
    public void close() {
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Runs on the single accept thread, so counting up needs no lock; counting down happens anywhere. */
    private final class Gate extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = (Channel) msg;
            if (open.get() >= max) {
                child.unsafe().closeForcibly();
                refused(child);
                return;
            }
            open.incrementAndGet();
            child.closeFuture().addListener(f -> open.decrementAndGet());
            ctx.fireChannelRead(msg);
        }

        /** One WARN per 10 s at most: a flood must not flood the log too. */
        private void refused(Channel child) {
            refusedSinceWarn++;
            long now = System.nanoTime();
            if (lastWarnNanos == 0 || now - lastWarnNanos >= WARN_EVERY_NANOS) {
                log.warn("connection refused: {} open, --max-connections={} reached (last from {}; {} refused since the last warning)",
                        open.get(), max, child.remoteAddress(), refusedSinceWarn);
                lastWarnNanos = now;
                refusedSinceWarn = 0;
            }
        }
    }
}
