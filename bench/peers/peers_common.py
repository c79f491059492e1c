"""What every Python contender of the peer bench shares: arguments and the one result line (see child.ts)."""
import json
import resource
import sys
import time


def arg(name, fallback=None):
    argv = sys.argv
    if f"--{name}" in argv:
        return argv[argv.index(f"--{name}") + 1]
    if fallback is None:
        raise SystemExit(f"missing --{name}")
    return fallback


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread, librdkafka's included
    return usage.ru_utime + usage.ru_stime


def start_timing():
    t0, cpu0 = time.perf_counter(), cpu_seconds()

    def done(records):
        result = {"records": records, "seconds": time.perf_counter() - t0, "cpuSeconds": cpu_seconds() - cpu0}
        print(json.dumps(result), flush=True)

    return done


def quix_app(**extra):
    """A Quix Streams app on the bench's broker and group, its JSON input and output topics: (app, source, sink)."""
    from quixstreams import Application

    app = Application(
        broker_address=arg("brokers"),
        consumer_group=arg("group"),
        auto_offset_reset="earliest",
        auto_create_topics=False,
        use_changelog_topics=False,
        **extra,
    )
    source = app.topic(arg("input"), value_deserializer="json")
    sink = app.topic(arg("output"), value_serializer="json")
    return app, source, sink
