"""Serving photos beside the page that shows them (issue 22), in one run.

On the demo neighbourhood (``flask seed-demo``) with a photo on every post of camille's
first timeline page, through the app in-process (Flask's test client, logged in):

- ``GET /timeline`` (20 cards) before the photos are added, then with a thumbnail on
  each card and the authors' faces: requests/s, p50 / p95, and their ratio;
- ``GET`` of one thumbnail (200, the bytes): the same, and the ratio to the timeline
  (target: >= 5x);
- the same thumbnail revalidated with ``If-None-Match`` (304, no bytes);
- the SQL statements of one timeline page before and after the photos were added
  (target: the same number: photos are loaded for the whole page in one query).

    .venv/bin/python bench/photo_serving.py                  # SpatiaLite, a temp file
    .venv/bin/python bench/photo_serving.py --backend postgis --db peuplade_bench_photos
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    bench_app,
    create_pg_database,
    database_url,
    drop_pg_database,
    migrate,
    remove_sqlite_file,
)
from peuplade.demo.cli import DEMO_PASSWORD
from peuplade.extensions import db
from peuplade.models import Member, Post
from peuplade.photos import processing, services

DEMO_EMAIL = "camille.b@demo.example.org"


def _photo_bytes() -> bytes:
    """A 2000 x 1500 phone-like JPEG (a gradient with detail, so it does not compress to
    nothing)."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.linear_gradient("L").resize((2000, 1500)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for n in range(0, 2000, 37):
        draw.line([(n, 0), (2000 - n, 1500)], fill=(n % 255, 90, 200 - n % 200), width=3)
    out = BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _timed(client, url: str, n: int, headers=None, expect: int = 200) -> list[float]:
    took = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {})
        took.append(time.perf_counter() - start)
        if response.status_code != expect:
            raise SystemExit(f"{url}: {response.status_code}, expected {expect}")
    return took


def _statements(app, client, url: str) -> int:
    seen: list[str] = []

    def count(*_args):
        seen.append("")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _figures(name: str, took: list[float]) -> tuple[float, str]:
    rate = len(took) / sum(took)
    q = statistics.quantiles(took, n=20)
    line = (
        f"{name:<38} {rate:8.0f} req/s   p50 {statistics.median(took) * 1000:7.2f} ms"
        f"   p95 {q[18] * 1000:7.2f} ms"
    )
    return rate, line


def run(app, requests: int) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    client = app.test_client()
    login = client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    if login.status_code != 302:
        raise SystemExit("login failed")
    before = _statements(app, client, "/timeline")
    page = client.get("/timeline").get_data(as_text=True)
    _timed(client, "/timeline", 10)  # warm the caches
    plain_rate, plain_line = _figures(
        "timeline page, no photos", _timed(client, "/timeline", requests)
    )

    cleaned = processing.process(_photo_bytes())
    with app.app_context():
        posts = db.session.scalars(select(Post).order_by(Post.created_at.desc())).all()
        shown = [p for p in posts if f'/{p.id}"' in page][:20]
        for post in shown:
            author = db.session.get(Member, post.author_id)
            if services.max_photos(post):
                services.add_photo(post, cleaned, None, author)
        db.session.commit()
        photo = next(p for post in shown for p in post.photos)
        from peuplade.photos import urls

        with app.test_request_context():
            thumb = urls.thumb_url(photo)
        with_photos = sum(1 for p in shown if p.photos)
    after = _statements(app, client, "/timeline")
    page = client.get("/timeline").get_data(as_text=True)
    thumbnails = page.count("/thumb.jpg")

    for url in ("/timeline", thumb):  # warm the caches
        _timed(client, url, 10)
    etag = client.get(thumb).headers["ETag"]
    timeline_rate, timeline_line = _figures(
        "timeline page (20 cards)", _timed(client, "/timeline", requests)
    )
    thumb_rate, thumb_line = _figures("thumbnail (200)", _timed(client, thumb, requests))
    revalidate_rate, revalidate_line = _figures(
        "thumbnail revalidated (304)",
        _timed(client, thumb, requests, headers={"If-None-Match": etag}, expect=304),
    )
    print(
        f"posts with a photo on the first timeline page: {with_photos}, "
        f"thumbnails shown: {thumbnails}"
    )
    print(plain_line)
    print(timeline_line + f"   {timeline_rate / plain_rate:5.2f}x the page without photos")
    print(thumb_line + f"   {thumb_rate / timeline_rate:5.1f}x the timeline (target >= 5x)")
    print(revalidate_line + f"   {revalidate_rate / timeline_rate:5.1f}x the timeline")
    print(
        f"SQL statements per timeline page: {before} without photos, {after} with photos "
        f"(target: the same)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--db", help="database name (PostGIS) or file (SpatiaLite)")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = args.db or (
            str(Path(tmp) / "photos.sqlite")
            if args.backend == "spatialite"
            else "peuplade_bench_photos"
        )
        url = database_url(args.backend, target)
        if args.backend == "postgis":
            drop_pg_database(url)
            create_pg_database(url)
        else:
            remove_sqlite_file(url)
        try:
            app = bench_app(url)
            app.config["WTF_CSRF_ENABLED"] = False  # the bench logs in with a plain POST
            # One log line per request would be most of what is measured.
            logging.getLogger("peuplade.request").setLevel(logging.WARNING)
            migrate(app)
            run(app, args.requests)
        finally:
            if args.backend == "postgis":
                with app.app_context():
                    db.engine.dispose()
                drop_pg_database(url)


if __name__ == "__main__":
    main()
