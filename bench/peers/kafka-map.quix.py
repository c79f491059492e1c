"""Kafka → JSON decode → map → Kafka in Quix Streams (the same shape as kafka-map.driftline.ts)."""
from peers_common import arg, quix_app, start_timing

records = int(arg("records"))
app, source, sink = quix_app()
sdf = app.dataframe(source)
sdf = sdf.apply(lambda v: {**v, "seen": True})
sdf.to_topic(sink)
done = start_timing()
app.run(count=records, collect=False)
done(records)
