"""Profile one API list page and one bulk request on a small national data set."""
import cProfile, pstats, sys, time, os
from tests.benchmarks import national, bench_api
from tests.benchmarks.common import backend_for, bench_app, PostgresBackend
url = os.environ.get("PROF_URL")
backend = PostgresBackend(url) if url else backend_for(None)
with bench_app(backend, API_RATE_LIMIT="1000000 per minute") as app:
    nat = national.build(app, scale=0.02, tokens=False, history=False, works=False)
    secret = bench_api._token(app)
    client = app.test_client()
    h = {"Authorization": f"Bearer {secret}"}
    for _ in range(5): client.get("/api/v1/assets?limit=50&cursor=20000", headers=h)
    pr = cProfile.Profile(); t=time.process_time(); pr.enable()
    for _ in range(20): client.get("/api/v1/assets?limit=50&cursor=20000", headers=h)
    pr.disable(); print("GET cpu per request ms", (time.process_time()-t)/20*1000)
    pstats.Stats(pr).sort_stats("cumulative").print_stats(35)
    bodies = bench_api._bulk_bodies(app, nat)
    client.post("/api/v1/assets/bulk", json=bodies[0], headers=h)
    pr = cProfile.Profile(); t=time.process_time(); w=time.perf_counter(); pr.enable()
    r = client.post("/api/v1/assets/bulk", json=bodies[1], headers=h)
    pr.disable(); print("bulk", r.status_code, "cpu s", time.process_time()-t, "wall", time.perf_counter()-w)
    pstats.Stats(pr).sort_stats("cumulative").print_stats(45)
