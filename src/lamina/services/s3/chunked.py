"""`Content-Encoding: aws-chunked` bodies: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` ... a zero-size
chunk, then trailers (`x-amz-checksum-crc32:<value>\r\n`) and an empty line. The SDKs send these (with
`x-amz-decoded-content-length`) for uploads whose checksum trails the body. Decoded incrementally, so a body
streamed from the socket is never whole in memory."""

from __future__ import annotations

from lamina.services.s3.faults import S3Error


def _incomplete() -> S3Error:
    return S3Error("IncompleteBody", "The request body terminated unexpectedly")


class ChunkedDecoder:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._left = 0  # data bytes of the current chunk still to come
        self._state = "size"  # size → data → crlf → size ... → trailers → done
        self.trailers: dict[str, str] = {}

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[bytes]:
        """The body bytes in `data` (what arrived so far completes)."""
        out: list[bytes] = []
        buf = self._buffer
        buf += data
        while buf and self._state != "done":
            if self._state == "data":
                take = min(self._left, len(buf))
                out.append(bytes(buf[:take]))
                del buf[:take]
                self._left -= take
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
                try:
                    self._left = int(line.split(";", 1)[0].strip(), 16)
                except ValueError:
                    raise _incomplete() from None
                self._state = "data" if self._left else "trailers"
            elif line == "":
                self._state = "done"
            else:
                name, _, value = line.partition(":")
                self.trailers[name.strip().lower()] = value.strip()
        return out

    def finish(self) -> None:
        if self._state == "trailers" and not self._buffer:  # a last chunk with no trailers and no blank line
            self._state = "done"
        if self._state != "done":
            raise _incomplete()
