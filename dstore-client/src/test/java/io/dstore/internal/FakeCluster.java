package io.dstore.internal;

import com.google.protobuf.ByteString;
import io.dstore.proto.DeleteRequest;
import io.dstore.proto.DeleteResponse;
import io.dstore.proto.Event;
import io.dstore.proto.GetRequest;
import io.dstore.proto.GetResponse;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.Heartbeat;
import io.dstore.proto.Hello;
import io.dstore.proto.Invalidation;
import io.dstore.proto.JoinRequest;
import io.dstore.proto.JoinResponse;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutRequest;
import io.dstore.proto.PutResponse;
import io.dstore.proto.Resync;
import io.dstore.proto.StatRequest;
import io.dstore.proto.StatResponse;
import io.dstore.proto.SubscribeRequest;
import io.dstore.proto.ValueInfo;
import io.dstore.proto.Welcome;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted cluster store for tests of a Local with several gateways: one store and one
 * incarnation, shared by any number of gateways, each a real gRPC server on a free port of
 * 127.0.0.1. Seqs skip (as etcd revisions do) and every invalidation names the one before it in
 * {@code previous_seq}. A write carrying a request id already seen answers as its first attempt
 * did. A gateway can be killed, or told to kill itself after applying a write and before answering
 * it (a gateway dying mid-call). Pipelines are not served (UNIMPLEMENTED), so Locals use unary
 * calls. Thread-safe: everything runs under the cluster's lock.
 */
final class FakeCluster implements AutoCloseable {
  static final long LEASE_MILLIS = 5_000;
  static final long RENEW_MILLIS = 50;

  final String incarnation;
  private final Object lock = new Object();
  private final Map<ByteString, ValueInfo> infos = new HashMap<>();
  private final Map<ByteString, ByteString> values = new HashMap<>();
  private final Map<ByteString, Object> outcomes = new HashMap<>(); // request id -> response
  private final List<Invalidation> events = new ArrayList<>();
  private final List<Gateway> gateways = new CopyOnWriteArrayList<>();
  private final AtomicInteger localIds = new AtomicInteger();
  private long lastSeq = 100;
  private long generations;

  FakeCluster(String incarnation) {
    this.incarnation = incarnation;
  }

  Gateway gateway() throws IOException {
    Gateway g = new Gateway();
    g.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(g)
            .build()
            .start();
    gateways.add(g);
    return g;
  }

  long lastSeq() {
    synchronized (lock) {
      return lastSeq;
    }
  }

  /** Stores a value directly, as another Local's put through another gateway would. */
  void store(String key, String value) {
    synchronized (lock) {
      apply(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(value));
    }
  }

  boolean contains(String key) {
    synchronized (lock) {
      return infos.containsKey(ByteString.copyFromUtf8(key));
    }
  }

  /** Deletes a key as another Local's delete would: the invalidation goes to every stream. */
  void delete(String key) {
    synchronized (lock) {
      remove(ByteString.copyFromUtf8(key));
    }
  }

  @Override
  public void close() {
    for (Gateway g : gateways) {
      g.kill();
    }
  }

  private ValueInfo apply(ByteString key, ByteString value) {
    ValueInfo info =
        ValueInfo.newBuilder()
            .setSize(value.size())
            .setGeneration(++generations)
            .setSha256(ByteString.copyFrom(Sha256.of(value.toByteArray())))
            .build();
    infos.put(key, info);
    values.put(key, value);
    return info;
  }

  private DeleteResponse remove(ByteString key) {
    ValueInfo info = infos.remove(key);
    if (info == null) {
      throw GrpcErrors.status(ErrorCode.NOT_FOUND, "no such key");
    }
    values.remove(key);
    long seq = lastSeq + 3; // revisions skip
    Invalidation inv =
        Invalidation.newBuilder()
            .setSeq(seq)
            .setPreviousSeq(lastSeq)
            .setKey(key)
            .setGeneration(info.getGeneration())
            .setDeletedAtUnixNanos(System.currentTimeMillis() * 1_000_000L)
            .build();
    lastSeq = seq;
    events.add(inv);
    for (Gateway g : gateways) {
      for (StreamObserver<Event> s : g.live) {
        send(s, Event.newBuilder().setInvalidation(inv).build());
      }
    }
    return DeleteResponse.newBuilder().setGeneration(info.getGeneration()).setSeq(seq).build();
  }

  private static void send(StreamObserver<Event> stream, Event event) {
    try {
      stream.onNext(event);
    } catch (RuntimeException e) {
      // the stream is gone
    }
  }

  /** One gateway of the cluster. */
  final class Gateway extends GlobalGrpc.GlobalImplBase {
    Server server;
    final List<Hello> hellos = new CopyOnWriteArrayList<>();
    final List<ByteString> putIds = new CopyOnWriteArrayList<>();
    final List<ByteString> deleteIds = new CopyOnWriteArrayList<>();
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger renewals = new AtomicInteger();
    final List<StreamObserver<Event>> live = new CopyOnWriteArrayList<>();

    /** Apply the next write, then die without answering it. */
    volatile boolean dieAfterApplying;

    String target() {
      return "127.0.0.1:" + server.getPort();
    }

    /** As kill -9 would: every connection dropped, nothing answered. */
    void kill() {
      live.clear();
      server.shutdownNow();
    }

    @Override
    public void join(JoinRequest request, StreamObserver<JoinResponse> responses) {
      responses.onNext(
          JoinResponse.newBuilder()
              .setLocalId("local-" + localIds.incrementAndGet())
              .setLeaseMillis(LEASE_MILLIS)
              .setRenewIntervalMillis(RENEW_MILLIS)
              .setIncarnation(incarnation)
              .setSeq(lastSeq())
              .build());
      responses.onCompleted();
    }

    @Override
    public StreamObserver<SubscribeRequest> subscribe(StreamObserver<Event> events) {
      return new StreamObserver<>() {
        @Override
        public void onNext(SubscribeRequest request) {
          synchronized (lock) {
            switch (request.getKindCase()) {
              case HELLO -> hello(request.getHello(), events);
              case RENEW -> {
                renewals.incrementAndGet();
                send(
                    events,
                    Event.newBuilder()
                        .setHeartbeat(
                            Heartbeat.newBuilder()
                                .setSeq(lastSeq)
                                .setNonce(request.getRenew().getNonce())
                                .setLeaseMillis(LEASE_MILLIS))
                        .build());
              }
              default -> {}
            }
          }
        }

        @Override
        public void onError(Throwable t) {
          live.remove(events);
        }

        @Override
        public void onCompleted() {
          live.remove(events);
          try {
            events.onCompleted();
          } catch (RuntimeException e) {
            // gone
          }
        }
      };
    }

    private void hello(Hello hello, StreamObserver<Event> events) {
      hellos.add(hello);
      boolean ours = hello.getIncarnation().equals(incarnation);
      long from = ours ? hello.getLastSeq() : lastSeq;
      send(
          events,
          Event.newBuilder()
              .setWelcome(
                  Welcome.newBuilder()
                      .setIncarnation(incarnation)
                      .setReplayFrom(from)
                      .setSeq(lastSeq)
                      .setLeaseMillis(LEASE_MILLIS)
                      .setRenewIntervalMillis(RENEW_MILLIS))
              .build());
      if (ours) {
        for (Invalidation inv : FakeCluster.this.events) {
          if (inv.getSeq() > from) {
            send(events, Event.newBuilder().setInvalidation(inv).build());
          }
        }
      } else if (!hello.getIncarnation().isEmpty()) {
        send(events, Event.newBuilder().setResync(Resync.newBuilder().setSeq(lastSeq)).build());
      }
      live.add(events);
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> responses) {
      reads.incrementAndGet();
      synchronized (lock) {
        ValueInfo info = infos.get(request.getKey());
        if (info == null) {
          responses.onError(GrpcErrors.status(ErrorCode.NOT_FOUND, "no such key"));
          return;
        }
        responses.onNext(
            GetResponse.newBuilder()
                .setInfo(info)
                .setValue(values.get(request.getKey()))
                .setSeq(lastSeq)
                .build());
      }
      responses.onCompleted();
    }

    @Override
    public void stat(StatRequest request, StreamObserver<StatResponse> responses) {
      reads.incrementAndGet();
      synchronized (lock) {
        ValueInfo info = infos.get(request.getKey());
        if (info == null) {
          responses.onError(GrpcErrors.status(ErrorCode.NOT_FOUND, "no such key"));
          return;
        }
        responses.onNext(StatResponse.newBuilder().setInfo(info).build());
      }
      responses.onCompleted();
    }

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> responses) {
      putIds.add(request.getRequestId());
      answer(
          responses, () -> created(request.getKey(), request.getValue(), request.getRequestId()));
    }

    @Override
    public StreamObserver<PutChunk> putStream(StreamObserver<PutResponse> responses) {
      return new StreamObserver<>() {
        private ByteString key = ByteString.EMPTY;
        private ByteString id = ByteString.EMPTY;
        private ByteString bytes = ByteString.EMPTY;

        @Override
        public void onNext(PutChunk chunk) {
          if (chunk.hasHeader()) {
            key = chunk.getHeader().getKey();
            id = chunk.getHeader().getRequestId();
            putIds.add(id);
          }
          bytes = bytes.concat(chunk.getData());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          answer(responses, () -> created(key, bytes, id));
        }
      };
    }

    @Override
    public void delete(DeleteRequest request, StreamObserver<DeleteResponse> responses) {
      deleteIds.add(request.getRequestId());
      answer(
          responses,
          () -> {
            Object earlier = outcomes.get(request.getRequestId());
            if (earlier != null) {
              return (DeleteResponse) earlier;
            }
            DeleteResponse done = remove(request.getKey());
            outcomes.put(request.getRequestId(), done);
            return done;
          });
    }

    private PutResponse created(ByteString key, ByteString value, ByteString id) {
      Object earlier = outcomes.get(id);
      if (earlier != null) {
        return (PutResponse) earlier;
      }
      if (infos.containsKey(key)) {
        throw GrpcErrors.status(ErrorCode.ALREADY_EXISTS, "key exists");
      }
      PutResponse done =
          PutResponse.newBuilder().setKey(key).setCreated(true).setInfo(apply(key, value)).build();
      outcomes.put(id, done);
      return done;
    }

    /** Applies a write under the lock, then answers it, or dies instead if told to. */
    private <T> void answer(StreamObserver<T> responses, java.util.function.Supplier<T> write) {
      T result;
      try {
        synchronized (lock) {
          result = write.get();
        }
      } catch (RuntimeException e) {
        responses.onError(e);
        return;
      }
      if (dieAfterApplying) {
        kill();
        return;
      }
      responses.onNext(result);
      responses.onCompleted();
    }
  }
}
