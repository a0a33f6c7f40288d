"""`Content-Encoding: aws-chunked` bodies: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` ... a zero-size
chunk, then trailers (`x-amz-checksum-crc32:<value>\r\n`) and an empty line. The SDKs send these (with
`x-amz-decoded-content-length`) for uploads whose checksum trails the body. Decoded incrementally, so a body
streamed from the socket is never whole in memory.

Under `--auth sigv4` a signed chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) comes with the
verifier's `ChunkChain`: every chunk's signature is checked when its last byte arrives and the trailer's at the
end; a mismatch is S3's 403 SignatureDoesNotMatch, raised before the write is committed, so nothing is stored.

`x-amz-decoded-content-length` (the SDKs always send it with aws-chunked) must equal the decoded length: a body
that decodes to more or fewer bytes is S3's 400 IncompleteBody, also before the write is committed."""

from __future__ import annotations

from lamina.auth.chunk_signatures import ChunkChain, ChunkSignatureMismatch
from lamina.auth.sigv4 import MISMATCH
from lamina.services.s3.faults import S3Error

_SIGNATURE = "chunk-signature="
_TRAILER_SIGNATURE = "x-amz-trailer-signature"


def _incomplete() -> S3Error:
    return S3Error("IncompleteBody", "The request body terminated unexpectedly")


def _wrong_length() -> S3Error:
    return S3Error(
        "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header."
    )


def _mismatch() -> S3Error:
    return S3Error("SignatureDoesNotMatch", MISMATCH, 403)


def _chunk_signature(extensions: str) -> str | None:
    for extension in (e.strip() for e in extensions.split(";")):
        if extension.startswith(_SIGNATURE):
            return extension[len(_SIGNATURE) :]
    return None


class ChunkedDecoder:
    def __init__(self, chain: ChunkChain | None = None, declared: int | None = None) -> None:
        self._chain = chain
        self._declared = declared  # x-amz-decoded-content-length, None when not sent
        self._decoded = 0
        self._buffer = bytearray()
        self._left = 0  # data bytes of the current chunk still to come
        self._state = "size"  # size → data → crlf → size ... → trailers → done
        self.trailers: dict[str, str] = {}
        self._trailer_lines: list[tuple[str, str]] = []  # as sent, for the trailer signature
        self._trailer_signature: str | None = None

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[bytes]:
        """The body bytes in `data` (what arrived so far completes)."""
        try:
            return self._feed(data)
        except ChunkSignatureMismatch:
            raise _mismatch() from None

    def _feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        buf = self._buffer
        buf += data
        chain = self._chain
        while buf and self._state != "done":
            if self._state == "data":
                take = min(self._left, len(buf))
                piece = bytes(buf[:take])
                del buf[:take]
                self._left -= take
                self._decoded += take
                if self._declared is not None and self._decoded > self._declared:
                    raise _wrong_length()
                if chain is not None:
                    chain.update(piece)
                    if self._left == 0:
                        chain.end()  # before the chunk's last bytes are handed on
                out.append(piece)
                if self._left == 0:
                    self._state = "crlf"
                continue
            if self._state == "crlf":
                if len(buf) < 2:
                    break
                if buf[:2] != b"\r\n":
                    raise _incomplete()
                del buf[:2]
                self._state = "size"
                continue
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 4096:
                    raise _incomplete()
                break
            line = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 2]
            if self._state == "size":
                size, _, extensions = line.partition(";")
                try:
                    self._left = int(size.strip(), 16)
                except ValueError:
                    raise _incomplete() from None
                if chain is not None:
                    chain.begin(_chunk_signature(extensions))
                    if self._left == 0:
                        chain.end()
                self._state = "data" if self._left else "trailers"
            elif line == "":
                self._end_trailers()
            else:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == _TRAILER_SIGNATURE:
                    self._trailer_signature = value
                else:
                    self._trailer_lines.append((name, value))
                    self.trailers[name] = value
        return out

    def _end_trailers(self) -> None:
        chain = self._chain
        if chain is not None and (chain.trailer or self._trailer_lines or self._trailer_signature is not None):
            if not chain.trailer:  # trailing headers the seed did not announce are unsigned
                raise ChunkSignatureMismatch("trailing headers in a body signed without them")
            chain.trailers(self._trailer_lines, self._trailer_signature)
        self._state = "done"

    def finish(self) -> None:
        if self._state == "trailers" and not self._buffer:  # a last chunk with no trailers and no blank line
            try:
                self._end_trailers()
            except ChunkSignatureMismatch:
                raise _mismatch() from None
        if self._state != "done":
            raise _incomplete()
        if self._declared is not None and self._decoded != self._declared:
            raise _wrong_length()
