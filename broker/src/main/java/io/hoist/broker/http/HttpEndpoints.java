package io.hoist.broker.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The broker's HTTP side: {@code GET /healthz} (the broker is alive: its engine thread runs), {@code GET /readyz}
 * (the store is open and taking writes; otherwise 503 and why) and {@code GET /metrics}; over TLS
 * when given a context, with /metrics behind a token when its access says so.
 */
public final class HttpEndpoints implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    /**
     * @param notReadyReason null when ready, otherwise what is wrong
     * @param metrics        the Prometheus text exposition, made afresh for each scrape
     */
    public HttpEndpoints(String host, int port, Supplier<String> notReadyReason, Supplier<String> metrics)
            throws InterruptedException {
        this(host, port, null, MetricsAccess.OPEN, () -> null, notReadyReason, metrics);
    }

    /**
     * @param tls    null for plain HTTP; otherwise every connection starts with a TLS handshake
     * @param access     who may read /metrics (health and readiness are always open, for probes)
     * @param deadReason null while the broker can still serve; otherwise why it cannot (its engine
     *                   thread died): /healthz then answers 503, so a supervisor restarts it
     */
    public HttpEndpoints(String host, int port, SslContext tls, MetricsAccess access, Supplier<String> deadReason,
                         Supplier<String> notReadyReason, Supplier<String> metrics) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 << 10),
                                new Handler(deadReason, notReadyReason, metrics, access));
                    }
                });
        this.channel = b.bind(host, port).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Supplier<String> deadReason;
        private final Supplier<String> notReadyReason;
        private final Supplier<String> metrics;
        private final MetricsAccess access;

        Handler(Supplier<String> deadReason, Supplier<String> notReadyReason, Supplier<String> metrics,
                MetricsAccess access) {
            this.deadReason = deadReason;
            this.notReadyReason = notReadyReason;
            this.metrics = metrics;
            this.access = access;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String path = new QueryStringDecoder(req.uri()).path();
            FullHttpResponse resp;
            if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
                resp = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n");
            } else if (path.equals("/healthz")) {
                String dead = deadReason.get();
                resp = dead == null ? text(HttpResponseStatus.OK, "ok\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not alive: " + dead + "; restart the broker\n");
            } else if (path.equals("/metrics")) {
                resp = switch (access.check(req.headers().get(HttpHeaderNames.AUTHORIZATION), ctx.channel().remoteAddress())) {
                    case ALLOW -> metricsText();
                    case UNAUTHENTICATED -> text(HttpResponseStatus.UNAUTHORIZED,
                            "/metrics needs an admin token: send 'Authorization: Bearer <secret>'\n");
                    case FORBIDDEN -> text(HttpResponseStatus.FORBIDDEN, "/metrics needs a token with the admin role\n");
                };
                if (resp.status().equals(HttpResponseStatus.UNAUTHORIZED)) {
                    resp.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
                }
            } else if (path.equals("/readyz")) {
                String problem = notReadyReason.get();
                resp = problem == null ? text(HttpResponseStatus.OK, "ready\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready: " + problem + "\n");
            } else {
                resp = text(HttpResponseStatus.NOT_FOUND, "not found; try /healthz, /readyz or /metrics\n");
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (keepAlive) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(resp);
            } else {
                ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private FullHttpResponse metricsText() {
            FullHttpResponse r = text(HttpResponseStatus.OK, metrics.get());
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            return r;
        }

        private static FullHttpResponse text(HttpResponseStatus status, String body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            HttpUtil.setContentLength(r, r.content().readableBytes());
            return r;
        }
    }
}
