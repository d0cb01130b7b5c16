#!/usr/bin/env python3
"""A small dstore client in Python, speaking the gRPC protocol of
dstore-proto/src/main/proto/dstore/v1/dstore.proto (see docs/protocol.md).

It needs the Python gRPC runtime (Debian: python3-grpcio, python3-protobuf)
and stubs generated from dstore.proto into a directory given with --stubs (or
the DSTORE_STUBS environment variable); README.md beside this file shows how.

As a module:

    client = Client("127.0.0.1:7000")
    client.put(b"greeting", b"hello")
    assert client.get(b"greeting") == b"hello"
    try:
        client.put(b"greeting", b"again")
    except DstoreError as e:
        print(e.code)   # "ALREADY_EXISTS"

As a command:

    dstore_client.py --target 127.0.0.1:7000 put KEY VALUE
    dstore_client.py --target 127.0.0.1:7000 get KEY
    dstore_client.py --target 127.0.0.1:7000 selftest

`selftest` runs every call against the server, printing one line per step,
and exits 1 at the first step whose result is not the expected one.
"""

import argparse
import hashlib
import io
import os
import secrets
import sys

# The stubs' directory must be importable before they are imported: from
# $DSTORE_STUBS, or from --stubs when run as a command.
_STUBS = os.environ.get("DSTORE_STUBS")
if __name__ == "__main__":
    for _i, _arg in enumerate(sys.argv):
        if _arg == "--stubs" and _i + 1 < len(sys.argv):
            _STUBS = sys.argv[_i + 1]
        elif _arg.startswith("--stubs="):
            _STUBS = _arg.split("=", 1)[1]
if _STUBS:
    sys.path.insert(0, os.path.abspath(_STUBS))

import grpc  # noqa: E402

try:
    from dstore.v1 import dstore_pb2 as pb  # noqa: E402
    from dstore.v1 import dstore_pb2_grpc as pb_grpc  # noqa: E402
except ImportError as _e:
    sys.exit(
        "dstore_client.py: cannot import the generated stubs (dstore/v1/dstore_pb2.py): "
        + str(_e)
        + "; generate them with protoc (see README.md) and pass their directory with --stubs"
    )

MIB = 1 << 20

# The typed error trailer: a serialized dstore.v1.ErrorDetail. gRPC metadata keys
# travel in lower case.
ERROR_DETAIL_TRAILER = "dstore.v1.errordetail-bin"
# What servers sent before the typed trailer: the code's name, in ASCII.
LEGACY_ERROR_TRAILER = "dstore-error-code"

# The dstore code a status implies when no trailer names one.
_CODE_OF_STATUS = {
    grpc.StatusCode.DATA_LOSS: "INTEGRITY",
}


class DstoreError(Exception):
    """A failed call: `code` is dstore's name for why (NOT_FOUND, ALREADY_EXISTS,
    INVALID_ARGUMENT, TOO_LARGE, UNAVAILABLE, UNAUTHENTICATED, PERMISSION_DENIED,
    INTEGRITY, RESOURCE_EXHAUSTED, INTERNAL, NO_SPACE, or UNSPECIFIED for a code newer than
    these stubs), `status` the gRPC status code, `source` where the code came
    from: the trailer's name, or "status" when the server sent no trailer (an
    error of the transport or of gRPC itself)."""

    def __init__(self, code, status, message, source):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.status = status
        self.message = message
        self.source = source


def error_code(error):
    """(code, source) of a grpc.RpcError: from the typed trailer, else the legacy
    ASCII trailer, else the status code."""
    trailers = error.trailing_metadata() or ()
    for key, value in trailers:
        if key.lower() == ERROR_DETAIL_TRAILER:
            detail = pb.ErrorDetail.FromString(value)
            try:
                name = pb.ErrorCode.Name(detail.code)
            except ValueError:  # a code newer than these stubs
                name = "ERROR_CODE_UNSPECIFIED"
            return name[len("ERROR_CODE_"):], "dstore.v1.ErrorDetail-bin"
    for key, value in trailers:
        if key.lower() == LEGACY_ERROR_TRAILER:
            return value, LEGACY_ERROR_TRAILER
    status = error.code()
    return _CODE_OF_STATUS.get(status, status.name), "status"


def _dstore_error(error):
    code, source = error_code(error)
    return DstoreError(code, error.code(), error.details() or "", source)


def content_key(data):
    """The content key of `data`: sha256:<64 lowercase hex digits>."""
    return b"sha256:" + hashlib.sha256(data).hexdigest().encode("ascii")


class Client:
    """Blocking calls to a dstore server (Global or a Local daemon). Every
    failure is raised as a DstoreError."""

    def __init__(self, target, token=None, tls_ca=None, timeout=30.0):
        options = [("grpc.max_receive_message_length", 16 * MIB)]
        if tls_ca is not None:
            with open(tls_ca, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = pb_grpc.GlobalStub(self._channel)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise _dstore_error(e) from None

    # ---- unary calls ----------------------------------------------------------

    def put(self, key, value):
        """Creates `key` with `value` (sent with its SHA-256); the PutResponse."""
        return self._call(
            self._stub.Put,
            pb.PutRequest(key=key, value=value, sha256=hashlib.sha256(value).digest()),
        )

    def get(self, key, offset=None, length=None):
        """The value of `key` (or a range of it). A value too large for one
        message comes back `streamed`: it is then read with GetStream."""
        request = pb.GetRequest(key=key)
        if offset is not None:
            request.offset = offset
        if length is not None:
            request.length = length
        response = self._call(self._stub.Get, request)
        if response.streamed:
            out = io.BytesIO()
            self.get_stream(key, out, offset=offset, length=length)
            return out.getvalue()
        value = response.value
        if offset is None and length is None:
            _check_digest(value, response.info.sha256)
        return value

    def get_with_info(self, key, max_inline_bytes=0):
        """The raw GetResponse (value, info, streamed, ...)."""
        return self._call(
            self._stub.Get, pb.GetRequest(key=key, max_inline_bytes=max_inline_bytes)
        )

    def stat(self, key):
        """The ValueInfo of `key`: size, generation, sha256."""
        return self._call(self._stub.Stat, pb.StatRequest(key=key)).info

    def delete(self, key):
        """Deletes `key`; the DeleteResponse (generation removed, seq)."""
        return self._call(self._stub.Delete, pb.DeleteRequest(key=key))

    # ---- streams --------------------------------------------------------------

    def put_stream(self, key, source, size=None, chunk_size=MIB, content_addressed=False):
        """Uploads the bytes read from `source` (a binary file object) in chunks
        of `chunk_size`: the header alone first (size unset when unknown), then
        the chunks, then the SHA-256 of everything sent in a last message; the
        end of the request stream (half-close) commits. For a content-addressed
        upload `key` is None and the server derives sha256:<hex>. Returns the
        PutResponse."""
        header = pb.PutHeader(content_addressed=content_addressed)
        if key is not None:
            header.key = key
        if size is not None:
            header.size = size

        def messages():
            digest = hashlib.sha256()
            yield pb.PutChunk(header=header)
            while True:
                data = source.read(chunk_size)
                if not data:
                    break
                digest.update(data)
                yield pb.PutChunk(data=data)
            yield pb.PutChunk(sha256=digest.digest())

        try:
            return self._stub.PutStream(
                messages(), timeout=self._timeout, metadata=self._metadata
            )
        except grpc.RpcError as e:
            raise _dstore_error(e) from None

    def put_header_only(self, header):
        """Sends an upload made of `header` alone (for testing the server's
        validation of it); the PutResponse."""
        try:
            return self._stub.PutStream(
                iter([pb.PutChunk(header=header)]),
                timeout=self._timeout,
                metadata=self._metadata,
            )
        except grpc.RpcError as e:
            raise _dstore_error(e) from None

    def get_stream(self, key, sink, offset=None, length=None, chunk_size=0):
        """Streams the value of `key` (or a range) into `sink` (a binary file
        object); verifies the SHA-256 of a whole value. Returns (ValueInfo,
        number of messages)."""
        request = pb.GetRequest(key=key, chunk_size=chunk_size)
        if offset is not None:
            request.offset = offset
        if length is not None:
            request.length = length
        info = None
        digest = hashlib.sha256()
        received = 0
        messages = 0
        try:
            for chunk in self._stub.GetStream(
                request, timeout=self._timeout, metadata=self._metadata
            ):
                messages += 1
                if info is None:
                    if not chunk.HasField("info"):
                        raise DstoreError(
                            "INTERNAL", None, "stream began without metadata", "client"
                        )
                    info = chunk.info
                if chunk.data:
                    digest.update(chunk.data)
                    sink.write(chunk.data)
                    received += len(chunk.data)
        except grpc.RpcError as e:
            raise _dstore_error(e) from None
        if info is None:
            raise DstoreError("INTERNAL", None, "stream ended without metadata", "client")
        if offset is None and length is None:
            if received != info.size:
                raise DstoreError(
                    "UNAVAILABLE",
                    None,
                    "stream ended after %d of %d bytes" % (received, info.size),
                    "client",
                )
            _check_digest(digest, info.sha256)
        return info, messages


def _check_digest(data_or_digest, expected):
    actual = (
        data_or_digest.digest()
        if hasattr(data_or_digest, "digest")
        else hashlib.sha256(data_or_digest).digest()
    )
    if actual != expected:
        raise DstoreError(
            "INTEGRITY",
            None,
            "bytes hash to %s, the server says %s" % (actual.hex(), expected.hex()),
            "client",
        )


# ---- selftest ---------------------------------------------------------------


class StepFailed(Exception):
    pass


def _expect_error(code, call):
    """Runs `call`, which must fail with dstore code `code`; the DstoreError."""
    try:
        result = call()
    except DstoreError as e:
        if e.code != code:
            raise StepFailed("expected %s, got %s (%s)" % (code, e.code, e.message))
        return e
    raise StepFailed("expected %s, the call succeeded: %r" % (code, result))


def _check(condition, what):
    if not condition:
        raise StepFailed(what)


def selftest(client, prefix, big_mib=5):
    """Exercises every data call; prints one line per step. True if all passed."""
    small_key = prefix + b"small"
    big_key = prefix + b"big"
    missing_key = prefix + b"missing"
    big = secrets.token_bytes(big_mib * MIB + 12345)  # not a whole number of chunks
    created = []

    def put_small():
        r = client.put(small_key, b"hello, dstore")
        _check(r.created, "not created")
        _check(r.info.size == 13, "size %d" % r.info.size)
        created.append(small_key)
        return "created %s, generation %d" % (small_key.decode(), r.info.generation)

    def put_again():
        e = _expect_error("ALREADY_EXISTS", lambda: client.put(small_key, b"other"))
        return "ALREADY_EXISTS via %s" % e.source

    def get_small():
        v = client.get(small_key)
        _check(v == b"hello, dstore", "value %r" % v)
        return "%d bytes, SHA-256 verified" % len(v)

    def get_range():
        v = client.get(small_key, offset=7, length=6)
        _check(v == b"dstore", "range %r" % v)
        return "bytes 7..13: %r" % v.decode()

    def stat_small():
        info = client.stat(small_key)
        _check(info.size == 13, "size %d" % info.size)
        _check(
            info.sha256 == hashlib.sha256(b"hello, dstore").digest(), "sha256 differs"
        )
        return "size %d, generation %d" % (info.size, info.generation)

    def get_missing():
        e = _expect_error("NOT_FOUND", lambda: client.get(missing_key))
        return "NOT_FOUND via %s" % e.source

    def put_stream():
        r = client.put_stream(big_key, io.BytesIO(big), size=len(big), chunk_size=MIB)
        _check(r.created, "not created")
        _check(r.info.size == len(big), "size %d" % r.info.size)
        _check(r.info.sha256 == hashlib.sha256(big).digest(), "sha256 differs")
        created.append(big_key)
        return "%d bytes in 1 MiB chunks, SHA-256 in the last message" % len(big)

    def put_stream_content():
        data = secrets.token_bytes(2 * MIB + 1)
        r = client.put_stream(None, io.BytesIO(data), content_addressed=True)
        _check(r.key == content_key(data), "key %r" % r.key)
        _check(r.info.size == len(data), "size %d" % r.info.size)
        created.append(r.key)
        return "size unset (unknown), stored under %s" % r.key.decode()

    def get_big_unary():
        r = client.get_with_info(big_key)
        _check(r.streamed and not r.value, "not answered streamed")
        v = client.get(big_key)  # follows up with GetStream
        _check(v == big, "value differs")
        return "answered streamed, then read with GetStream"

    def get_stream():
        out = io.BytesIO()
        info, messages = client.get_stream(big_key, out, chunk_size=256 << 10)
        _check(out.getvalue() == big, "value differs")
        _check(messages >= len(big) // (256 << 10), "only %d messages" % messages)
        return "%d bytes in %d messages, SHA-256 verified" % (info.size, messages)

    def negative_size():
        e = _expect_error(
            "INVALID_ARGUMENT",
            lambda: client.put_header_only(pb.PutHeader(key=prefix + b"neg", size=-1)),
        )
        return "INVALID_ARGUMENT: %s" % e.message

    def bad_chunk_size():
        e = _expect_error(
            "INVALID_ARGUMENT",
            lambda: client.get_stream(big_key, io.BytesIO(), chunk_size=1),
        )
        return "INVALID_ARGUMENT: %s" % e.message

    def delete_small():
        r = client.delete(small_key)
        created.remove(small_key)
        e = _expect_error("NOT_FOUND", lambda: client.stat(small_key))
        return "generation %d deleted; stat then says NOT_FOUND via %s" % (
            r.generation,
            e.source,
        )

    def delete_again():
        e = _expect_error("NOT_FOUND", lambda: client.delete(small_key))
        return "NOT_FOUND via %s" % e.source

    steps = [
        ("put", put_small),
        ("put-existing", put_again),
        ("get", get_small),
        ("get-range", get_range),
        ("stat", stat_small),
        ("get-missing", get_missing),
        ("put-stream", put_stream),
        ("put-stream-content", put_stream_content),
        ("get-streamed", get_big_unary),
        ("get-stream", get_stream),
        ("refuse-negative-size", negative_size),
        ("refuse-chunk-size", bad_chunk_size),
        ("delete", delete_small),
        ("delete-missing", delete_again),
    ]
    ok = True
    for name, step in steps:
        try:
            print("ok %s: %s" % (name, step()), flush=True)
        except (StepFailed, DstoreError) as e:
            print("FAIL %s: %s" % (name, e), flush=True)
            ok = False
            break
    for key in created:  # leave the server as found
        try:
            client.delete(key)
        except DstoreError as e:
            print("cleanup: cannot delete %s: %s" % (key.decode(), e), flush=True)
    if ok:
        print("selftest passed: %d steps" % len(steps), flush=True)
    return ok


# ---- command line -----------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description="A small dstore client.")
    parser.add_argument("--target", required=True, help="host:port of Global or a daemon")
    parser.add_argument("--stubs", help="directory holding dstore/v1/dstore_pb2.py")
    parser.add_argument("--token", default=os.environ.get("DSTORE_TOKEN"),
                        help="bearer token (default: $DSTORE_TOKEN)")
    parser.add_argument("--tls-ca", help="CA certificate (PEM): connect with TLS")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("put", help="create KEY with VALUE")
    p.add_argument("key")
    p.add_argument("value")
    p = sub.add_parser("put-file", help="create KEY from FILE, streamed")
    p.add_argument("key")
    p.add_argument("file")
    for name in ("get", "stat", "del"):
        sub.add_parser(name).add_argument("key")
    p = sub.add_parser("selftest", help="exercise every data call")
    p.add_argument("--prefix", help="key prefix (default: a random one)")
    p.add_argument("--big-mib", type=int, default=5, help="size of the streamed value")
    args = parser.parse_args(argv)

    with Client(args.target, token=args.token, tls_ca=args.tls_ca,
                timeout=args.timeout) as client:
        try:
            if args.command == "put":
                r = client.put(args.key.encode(), args.value.encode())
                print("created, generation %d" % r.info.generation)
            elif args.command == "put-file":
                with open(args.file, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    r = client.put_stream(args.key.encode(), f, size=size)
                print("created, %d bytes, generation %d" % (r.info.size, r.info.generation))
            elif args.command == "get":
                info, _ = client.get_stream(args.key.encode(), sys.stdout.buffer)
                sys.stdout.flush()
            elif args.command == "stat":
                info = client.stat(args.key.encode())
                print("size: %d\ngeneration: %d\nsha256: %s"
                      % (info.size, info.generation, info.sha256.hex()))
            elif args.command == "del":
                r = client.delete(args.key.encode())
                print("deleted generation %d" % r.generation)
            elif args.command == "selftest":
                prefix = (args.prefix or "pyselftest-%s/" % secrets.token_hex(4)).encode()
                return 0 if selftest(client, prefix, args.big_mib) else 1
        except DstoreError as e:
            print("error: %s (%s, via %s)" % (e.message, e.code, e.source), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
