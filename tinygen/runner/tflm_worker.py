"""The TFLM interpreter in its own process, for tinygen.runner.oracle.

Run as a script (it imports nothing from tinygen, so it starts quickly):
the parent writes pickled requests on stdin and reads pickled replies on
the file descriptor that was stdout. TFLM's own prints go to stderr, so
they cannot corrupt the replies. A crash of the interpreter (SIGSEGV,
SIGABRT on a model TFLM cannot run) ends only this process; the parent
turns it into a named error.

Requests: the model path first, then ("invoke", input array) any number of
times. Replies: ("ok", value) or ("error", message).
"""

import os
import pickle
import sys


def _quant(details: dict) -> dict:
    q = details.get("quantization_parameters", {})
    return dict(dtype=details["dtype"], shape=list(details["shape"]),
                scales=[float(s) for s in q.get("scales", [])],
                zero_points=[int(z) for z in q.get("zero_points", [])])


def main() -> int:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer

    def reply(*value) -> None:
        pickle.dump(value, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()

    try:
        import numpy as np
        from tflite_micro.python.tflite_micro import runtime

        it = runtime.Interpreter.from_file(pickle.load(requests))
        reply("ok", (_quant(it.get_input_details(0)), _quant(it.get_output_details(0))))
    except Exception as exc:  # the binding raises bare RuntimeError/ValueError
        reply("error", f"{type(exc).__name__}: {exc}")
        return 0
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return 0
        try:
            it.set_input(request[1], 0)
            it.invoke()
            reply("ok", np.array(it.get_output(0)))
        except Exception as exc:
            reply("error", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
