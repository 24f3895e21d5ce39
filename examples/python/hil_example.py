"""Hardware-in-the-loop from Python: connect to `lechip serve`, load an image, drive the input
population with a constant rate, run, and print what the chip recorded.

    npx lechip compile examples/small.json -o small.lechip
    npx lechip serve --port 5555 &
    python3 examples/python/hil_example.py --port 5555 --image small.lechip
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lechip_client import Chip, LechipError  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", default=os.environ.get("LECHIP_TOKEN"))
    ap.add_argument("--image", required=True, help="a .lechip image")
    ap.add_argument("--chip-seed", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=0.5, help="constant input rate of every input neuron")
    ap.add_argument("--duration", type=float, default=1.0, help="biological ms to run")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    with open(args.image, "rb") as f:
        image = f.read()
    try:
        with Chip(args.host, args.port, token=args.token) as chip:
            manifest = chip.load(image)
            chip.configure(chip_seed=args.chip_seed, seed=args.seed)
            inputs = {p["name"]: [(0.0, [args.rate] * p["size"])] for p in manifest["populations"] if p["role"] == "input"}
            outputs = [p["name"] for p in manifest["populations"] if p["role"] == "output"]
            chip.write_inputs(inputs)
            rec = chip.run(args.duration, record=outputs)
            weights = chip.read_weights(0)
            now = chip.time()
    except (OSError, LechipError) as e:
        print("hil_example: %s" % e, file=sys.stderr)
        return 1
    out = outputs[0]
    result = {
        "server": chip.server["tool_version"],
        "network": manifest["network"]["name"],
        "steps": rec["steps"],
        "t_bio_ms": rec["t_bio_ms"][-1],
        "t_hw_us": rec["t_hw_us"][-1],
        "population": out,
        "r_last": rec["record"][out]["r"][-1],
        "u_last": rec["record"][out]["u"][-1],
        "weights_0_first_row": weights[0],
        "time": now,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print("%s on lechip %s: %d steps, t = %.3f ms (%.3f us on the chip)" % (
            result["network"], result["server"], result["steps"], result["t_bio_ms"], result["t_hw_us"]))
        print("%s rates at the end: %s" % (out, ", ".join("%.4f" % r for r in result["r_last"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
