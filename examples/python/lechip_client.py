"""A minimal client for `lechip serve` (hardware-in-the-loop protocol versions 1 and 2), standard library only.

The protocol is described byte by byte in docs/hil-protocol.md. Usage:

    from lechip_client import Chip
    with Chip(port=5555) as chip:
        manifest = chip.load(open("net.lechip", "rb").read())
        chip.configure(chip_seed=7, seed=1)
        chip.write_inputs({"in": [(0.0, [0.5, 0.5])]})
        rec = chip.run(10.0, record=["out"])
        print(rec["record"]["out"]["r"][-1])

Arrays go over the wire as binary float32 when every value survives float32 exactly, else
float64 (so nothing is rounded on the way); lists of lists become 2-d arrays. Results come back
as plain Python lists (numpy users: numpy.asarray(result)).
"""

import array
import json
import socket
import struct
import sys
import zlib

MAGIC = b"LEHL"
# Versions this client speaks, oldest first. HELLO goes out in the oldest (any server reads it);
# the server chooses the highest both speak and every later frame carries that version.
PROTOCOL_VERSIONS = (1, 2)
PROTOCOL_VERSION = PROTOCOL_VERSIONS[-1]
HEADER = struct.Struct("<4sHHII")  # magic, version, type, request id, payload length (then u32 CRC)

COMMANDS = {
    "HELLO": 0x0001, "LOAD_IMAGE": 0x0002, "CONFIGURE": 0x0003, "WRITE_INPUTS": 0x0004,
    "RUN": 0x0005, "PRESENT": 0x0006, "READ_WEIGHTS": 0x0007, "WRITE_WEIGHTS": 0x0008,
    "READ_PARAMETERS": 0x0009, "WRITE_PARAMETERS": 0x000A, "RESET": 0x000B, "TIME": 0x000C, "BYE": 0x000D,
}
REPLY_BIT = 0x8000
FRAME_PROGRESS = 0x8080
FRAME_ERROR = 0x80FF

# dtype code -> (array typecode, bytes per element)
_DTYPES = {1: ("f", 4), 2: ("b", 1), 3: ("B", 1), 4: ("I", 4), 5: ("d", 8)}
_CODE_OF = {"f": 1, "b": 2, "B": 3, "I": 4, "d": 5}
_BIG_ENDIAN = sys.byteorder == "big"


class LechipError(Exception):
    """An error frame from the server (code and name as in docs/hil-protocol.md) or a lost connection."""

    def __init__(self, code, name, message, diagnostics=None, fatal=False):
        super().__init__("%s (%d): %s" % (name, code, message))
        self.code, self.name, self.message = code, name, message
        self.diagnostics, self.fatal = diagnostics or [], fatal


def _floats(values):
    """Numbers as array('f') when float32 holds every one exactly, else array('d')."""
    f32 = array.array("f", values)
    as_list = list(values)
    if all(a == b or (a != a and b != b) for a, b in zip(f32, as_list)):
        return f32
    return array.array("d", as_list)


def _as_array(value):
    """(typed array, shape) from bytes, an array.array, a list of numbers or a list of rows."""
    if hasattr(value, "tolist") and not isinstance(value, array.array):  # numpy without importing it
        value = value.tolist()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return array.array("B", bytes(value)), [len(value)]
    if isinstance(value, array.array):
        if value.typecode not in _CODE_OF:
            value = _floats(value)
        return value, [len(value)]
    value = list(value)
    if value and (isinstance(value[0], (list, tuple)) or hasattr(value[0], "tolist")):
        rows = [list(r.tolist() if hasattr(r, "tolist") else r) for r in value]
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ValueError("rows of different lengths; pass a flat list")
        return _floats([x for r in rows for x in r]), [len(rows), width]
    return _floats(value), [len(value)]


def encode_payload(params, arrays):
    """Payload bytes: u32 JSON length, JSON, u32 array count, arrays (see docs/hil-protocol.md)."""
    js = json.dumps(params, separators=(",", ":")).encode("utf-8") if params else b""
    parts = [struct.pack("<I", len(js)), js, struct.pack("<I", len(arrays))]
    for name, value in arrays.items():
        data, shape = _as_array(value)
        if _BIG_ENDIAN and data.itemsize > 1:
            data = array.array(data.typecode, data)
            data.byteswap()
        raw_name = name.encode("utf-8")
        parts.append(struct.pack("<BBH", _CODE_OF[data.typecode], len(shape), len(raw_name)))
        parts.append(raw_name)
        parts.append(struct.pack("<%dI" % len(shape), *shape))
        parts.append(data.tobytes())
    return b"".join(parts)


def decode_payload(payload):
    """(params dict, {name: (shape, array)}) from payload bytes."""
    (jlen,) = struct.unpack_from("<I", payload, 0)
    pos = 4
    params = json.loads(payload[pos:pos + jlen].decode("utf-8")) if jlen else {}
    pos += jlen
    (count,) = struct.unpack_from("<I", payload, pos)
    pos += 4
    arrays = {}
    for _ in range(count):
        code, ndim, nlen = struct.unpack_from("<BBH", payload, pos)
        pos += 4
        name = payload[pos:pos + nlen].decode("utf-8")
        pos += nlen
        shape = list(struct.unpack_from("<%dI" % ndim, payload, pos))
        pos += 4 * ndim
        typecode, size = _DTYPES[code]
        n = 1
        for d in shape:
            n *= d
        data = array.array(typecode)
        data.frombytes(payload[pos:pos + n * size])
        if _BIG_ENDIAN and size > 1:
            data.byteswap()
        pos += n * size
        arrays[name] = (shape, data)
    if pos != len(payload):
        raise LechipError(1, "malformed_frame", "reply payload has %d trailing bytes" % (len(payload) - pos))
    return params, arrays


def encode_frame(frame_type, request_id, params=None, arrays=None, version=PROTOCOL_VERSIONS[0]):
    """One frame: 20-byte header (magic, version, type, id, length, CRC32) + payload."""
    payload = encode_payload(params or {}, arrays or {})
    head = HEADER.pack(MAGIC, version, frame_type, request_id, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head)) & 0xFFFFFFFF
    return head + struct.pack("<I", crc) + payload


def _rows(shape, data):
    """A 2-d array as a list of rows; a 1-d one as a list."""
    if len(shape) == 2:
        n, k = shape
        return [list(data[i * k:(i + 1) * k]) for i in range(n)]
    return list(data)


class Chip:
    """One connection to `lechip serve`, holding its own chip; methods mirror the Chip interface."""

    def __init__(self, host="127.0.0.1", port=5555, token=None, timeout=60.0):
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._next_id = 1
        self._time = {"t_bio_ms": 0.0, "t_hw_us": 0.0}
        self.version = PROTOCOL_VERSIONS[0]
        hello = {"versions": list(PROTOCOL_VERSIONS), "client": "lechip-python/1"}
        if token is not None:
            hello["token"] = token
        self.server, _ = self._request("HELLO", hello)
        if self.server.get("protocol") not in PROTOCOL_VERSIONS:
            raise LechipError(2, "unsupported_version", "server chose protocol %r" % self.server.get("protocol"))
        self.version = self.server["protocol"]

    # -- transport -------------------------------------------------------------------------
    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self._sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise LechipError(0, "connection", "server closed the connection")
            buf += chunk
        return bytes(buf)

    def _read_frame(self):
        head = self._recv_exact(20)
        magic, version, frame_type, request_id, length = HEADER.unpack_from(head, 0)
        (crc,) = struct.unpack_from("<I", head, 16)
        if magic != MAGIC or version not in PROTOCOL_VERSIONS:
            raise LechipError(1, "malformed_frame", "reply is not a lechip HIL frame of protocol %s" % " or ".join(map(str, PROTOCOL_VERSIONS)))
        payload = self._recv_exact(length)
        if zlib.crc32(payload, zlib.crc32(head[:16])) & 0xFFFFFFFF != crc:
            raise LechipError(1, "malformed_frame", "reply CRC32 mismatch")
        return frame_type, request_id, payload

    def _request(self, command, params=None, arrays=None, on_progress=None):
        request_id = self._next_id
        self._next_id = self._next_id + 1 if self._next_id < 0xFFFFFFFF else 1
        self._sock.sendall(encode_frame(COMMANDS[command], request_id, params, arrays, self.version))
        while True:
            frame_type, rid, payload = self._read_frame()
            params_back, arrays_back = decode_payload(payload)
            if frame_type == FRAME_ERROR:
                raise LechipError(params_back.get("code", 0), params_back.get("name", "error"),
                                  params_back.get("message", ""), params_back.get("diagnostics"),
                                  params_back.get("fatal", False))
            if rid != request_id:
                continue
            if frame_type == FRAME_PROGRESS:
                if on_progress:
                    on_progress(params_back.get("done"))
                continue
            if frame_type != REPLY_BIT | COMMANDS[command]:
                raise LechipError(1, "malformed_frame", "unexpected reply type 0x%04x" % frame_type)
            if isinstance(params_back.get("time"), dict):
                self._time = params_back["time"]
            return params_back, arrays_back

    # -- the Chip interface ----------------------------------------------------------------
    def load(self, image_bytes):
        """Loads a .lechip image (its bytes); returns its manifest (dict)."""
        params, _ = self._request("LOAD_IMAGE", {}, {"image": bytes(image_bytes)})
        return params["manifest"]

    def configure(self, chip_seed=None, seed=None, mismatch_scale=None, mismatch=None, tau_distribution=None,
                  calibration=None, processor_timing=None, dt_ms=None, noise=None,
                  plasticity=None, processor=None, threads=None):
        """Realises the chip instance (chip_seed) and the run's streams (seed); resets the state.

        plasticity ("firmware" | "kernel"), processor ("interpret" | "translate" | "auto"), threads
        and noise keys tau_s_ms, filter_errors, filter_targets need protocol version 2."""
        cfg = dict(chip_seed=chip_seed, seed=seed, mismatch_scale=mismatch_scale, mismatch=mismatch,
                   tau_distribution=tau_distribution, calibration=calibration,
                   processor_timing=processor_timing, dt_ms=dt_ms, noise=noise,
                   plasticity=plasticity, processor=processor, threads=threads)
        self._request("CONFIGURE", {k: v for k, v in cfg.items() if v is not None})

    def write_inputs(self, inputs, targets=None):
        """inputs/targets: {population: [(t_ms, values), ...]}, each value held until the next t."""
        params, arrays = {}, {}
        for group, schedules in (("inputs", inputs), ("targets", targets)):
            if schedules is None:
                continue
            params[group] = list(schedules)
            for pop, entries in schedules.items():
                arrays["%s/%s/t" % (group, pop)] = [float(t) for t, _ in entries]
                arrays["%s/%s/value" % (group, pop)] = [list(v) for _, v in entries]
        self._request("WRITE_INPUTS", params, arrays)

    def run(self, duration_ms, record=None, sample_every_ms=None, learn=None, nudge=None):
        """Runs for duration_ms (biological); returns the recording as lists."""
        params = {"duration_ms": duration_ms}
        for k, v in (("record", record), ("sample_every_ms", sample_every_ms), ("learn", learn), ("nudge", nudge)):
            if v is not None:
                params[k] = v
        back, arrays = self._request("RUN", params)

        def series(name, kind):
            if kind == "ragged":
                _, values = arrays[name + "/value"]
                _, lengths = arrays[name + "/len"]
                out, pos = [], 0
                for n in lengths:
                    out.append(list(values[pos:pos + n]))
                    pos += n
                return out
            return _rows(*arrays[name])

        rec = {k: v for k, v in back.items() if k not in ("series", "record", "time")}
        for key, kind in back.get("series", {}).items():
            rec[key] = series(key, kind)
        rec["record"] = {}
        for pop, fields in back.get("record", {}).items():
            rec["record"][pop] = {f: (series("record/%s/%s" % (pop, f), d["series"]) if "series" in d else d.get("value"))
                                  for f, d in fields.items()}
        return rec

    def present(self, inputs, input_size, count, t_pres_ms, learn, readout, targets=None, on_progress=None, progress_every=None):
        """Presents count samples for t_pres_ms each; returns the readout rates, one row per sample."""
        params = {"input_size": input_size, "count": count, "t_pres_ms": t_pres_ms, "learn": learn, "readout": readout}
        if on_progress is not None and progress_every is not None:
            params["progress_every"] = progress_every
        arrays = {"inputs": array.array("f", _flat(inputs))}
        if targets is not None:
            arrays["targets"] = array.array("f", _flat(targets))
        _, back = self._request("PRESENT", params, arrays, on_progress)
        return _rows(*back["readout"])

    def read_weights(self, projection):
        """Effective weights of a projection as rows [post][pre]."""
        _, arrays = self._request("READ_WEIGHTS", {"projection": projection})
        return _rows(*arrays["weights"])

    def write_weights(self, projection, weights):
        """Writes weights [post][pre] (rows or flat, row-major)."""
        self._request("WRITE_WEIGHTS", {"projection": projection}, {"weights": _flat(weights)})

    def read_parameters(self, population):
        """The realised circuit parameters: {tau_m_us, tau_r_us, gain, offset, bias: list}."""
        _, arrays = self._request("READ_PARAMETERS", {"population": population})
        return {k: list(v) for k, (_, v) in arrays.items()}

    def write_parameters(self, population, **params):
        """Writes some of tau_m_us, tau_r_us, gain, offset, bias (float32 per neuron)."""
        self._request("WRITE_PARAMETERS", {"population": population}, {k: array.array("f", v) for k, v in params.items()})

    def reset(self):
        """Puts u, r, errors and time back to zero; weights stay."""
        self._request("RESET")

    def time(self):
        """The chip's time after the last request: {t_bio_ms, t_hw_us}."""
        return dict(self._time)

    def fetch_time(self):
        """Asks the server for the chip's time (one round trip)."""
        params, _ = self._request("TIME")
        return {"t_bio_ms": params["t_bio_ms"], "t_hw_us": params["t_hw_us"]}

    def close(self):
        """Says BYE and closes the connection."""
        if self._sock is None:
            return
        try:
            self._request("BYE")
        except (OSError, LechipError):
            pass
        self._sock.close()
        self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _flat(values):
    """Rows or a flat sequence as one flat list of numbers."""
    if hasattr(values, "tolist") and not isinstance(values, array.array):
        values = values.tolist()
    values = list(values)
    if values and isinstance(values[0], (list, tuple)):
        return [x for row in values for x in row]
    return values
