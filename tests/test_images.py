"""Story images: downloaded once from a real local HTTP server, cropped to the layout, resized,
re-encoded, published beside the web version, weighed by `check`, shown by the preview."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from selectolax.lexbor import LexborHTMLParser

from newsletter.build import build_month, render_month
from newsletter.checks import check_issue
from newsletter.issuefile import load_issue
from newsletter.models import Story
from newsletter.project import Project
from newsletter.render.imagefetch import ImageSource
from newsletter.render.images import EXIF_COPYRIGHT, ImageProblem, Slot, layout_slots, prepare_image
from newsletter.settings.images import ImageSettings
from tests.clirun import cli
from tests.conftest import LocalServer, Response, write_project

CARD = layout_slots(552, 192)["card"]
LEAD = layout_slots(552, 192)["lead"]


def jpeg(size: tuple[int, int] = (1600, 1200), colour: str = "#3366aa", **save: object) -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2),
                                  fill="#ffcc00")  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def served(body: bytes, ctype: str = "image/jpeg", status: int = 200) -> Response:
    return Response(body, status, {"Content-Type": ctype})


@pytest.fixture
def images() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


def source(tmp_path: Path, **settings: object) -> ImageSource:
    return ImageSource(tmp_path, tmp_path / "cache", ImageSettings.model_validate(settings))


# --- downloads --------------------------------------------------------------------------------


def test_an_image_is_downloaded_once_then_read_from_the_cache(
    images: LocalServer, tmp_path: Path
) -> None:
    images.routes["/a.jpg"] = served(jpeg())
    with source(tmp_path) as first:
        assert first.get(images.url + "/a.jpg") == jpeg()
    with source(tmp_path) as second:  # another build
        assert second.get(images.url + "/a.jpg") == jpeg()
    assert [path for path, _ in images.requests] == ["/a.jpg"]
    assert len(list((tmp_path / "cache" / "src").glob("*.json"))) == 1


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (served(b"<html>Not found</html>", "text/html", 404), "HTTP 404"),
        (served(b"<html>a login page</html>", "text/html"), "sent text/html, not a JPEG"),
        (served(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"), "image/svg+xml"),
        (served(jpeg((2000, 2000)) + b"\0" * 300_000), "over 0.2 MB"),
    ],
    ids=["404", "wrong-content-type", "svg", "oversized"],
)
def test_a_bad_answer_is_refused_and_not_cached(
    images: LocalServer, tmp_path: Path, route: Response, expected: str
) -> None:
    images.routes["/a.jpg"] = route
    with source(tmp_path, max_download_mb=0.2) as images_source, pytest.raises(ImageProblem) as e:
        images_source.get(images.url + "/a.jpg")
    assert expected in str(e.value)
    assert not (tmp_path / "cache" / "src").exists()


class Streaming(LocalServer):
    """Answers /endless.jpg with a chunked body and no length: 16 KB every 50 ms, forever."""

    def __init__(self) -> None:
        super().__init__()
        stopping = self.stopping

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"\xff" * 16384
                try:
                    while not stopping.wait(0.05):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd.RequestHandlerClass = Handler


def test_an_endless_stream_is_cut_off_by_size_or_time(tmp_path: Path) -> None:
    with Streaming() as server:
        with source(tmp_path, max_download_mb=0.1) as capped, pytest.raises(ImageProblem) as e:
            capped.get(server.url + "/endless.jpg")
        assert "larger than 0.1 MB" in str(e.value)
        with source(tmp_path, total_timeout=0.3) as slow, pytest.raises(ImageProblem) as e:
            slow.get(server.url + "/endless.jpg")
        assert "took longer than 0.3 s" in str(e.value)


def test_a_server_that_does_not_answer_times_out(images: LocalServer, tmp_path: Path) -> None:
    def stall(handler: object) -> Response:
        images.stopping.wait(30)  # until the test ends: the client must give up first
        return served(jpeg())

    images.routes["/slow.jpg"] = stall
    with source(tmp_path, timeout=0.3) as images_source, pytest.raises(ImageProblem) as e:
        images_source.get(images.url + "/slow.jpg")
    assert "no answer within 0.3 s" in str(e.value)


def test_without_network_only_copies_and_the_cache_are_used(
    images: LocalServer, tmp_path: Path
) -> None:
    images.routes["/a.jpg"] = served(jpeg())
    settings = ImageSettings(local_copies={"https://photos.example.org/2020/": "pictures"})
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "b.jpg").write_bytes(jpeg(colour="#aa3366"))
    offline = ImageSource(tmp_path, tmp_path / "cache", settings, fetch=False)
    assert offline.get("https://photos.example.org/2020/b.jpg") == jpeg(colour="#aa3366")
    with pytest.raises(ImageProblem, match="not downloaded"):
        offline.get(images.url + "/a.jpg")
    assert images.requests == []
    assert offline.local_copy("https://photos.example.org/2020/../../etc/passwd") is None


# --- processing -------------------------------------------------------------------------------


def test_a_photo_is_cropped_to_the_slot_and_resized_to_twice_its_width() -> None:
    for size in ((1600, 1200), (1000, 1000), (900, 1400), (3000, 1000)):
        out = prepare_image(jpeg(size), CARD)
        image = Image.open(io.BytesIO(out.data))
        assert image.format == "JPEG" and out.extension == "jpg"
        assert image.width == CARD.width * 2 == out.width
        assert abs(image.width / image.height - 3 / 2) < 0.01, size
    lead = Image.open(io.BytesIO(prepare_image(jpeg((4000, 3000)), LEAD).data))
    assert lead.size == (1104, 621)


def test_a_small_photo_is_cropped_but_never_enlarged() -> None:
    out = prepare_image(jpeg((300, 300)), CARD)
    assert (out.width, out.height) == (300, 200)


def test_jpeg_is_progressive_and_keeps_only_the_credit() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"
    exif[0x8825] = {2: (59.0, 55.0, 0.0)}  # GPS
    photo = jpeg(exif=exif.tobytes(), comment=b"private note")
    out = prepare_image(photo, CARD, credit="Foto: Åslaug Helland")
    image = Image.open(io.BytesIO(out.data))
    assert image.info.get("progressive") or image.info.get("progression")
    assert dict(image.getexif()) == {EXIF_COPYRIGHT: "Foto: Aslaug Helland"}  # EXIF is ASCII
    xmp = image.info["xmp"].decode("utf-8")
    assert "<photoshop:Credit>Foto: Åslaug Helland</photoshop:Credit>" in xmp
    assert "comment" not in image.info and "icc_profile" not in image.info
    bare = Image.open(io.BytesIO(prepare_image(photo, CARD).data))
    assert dict(bare.getexif()) == {} and "exif" not in bare.info and "xmp" not in bare.info


def test_transparency_stays_png() -> None:
    logo = Image.new("RGBA", (900, 600), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((300, 150, 600, 450), fill=(107, 31, 87, 255))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    out = prepare_image(buffer.getvalue(), CARD, credit="Logo: OCC")
    image = Image.open(io.BytesIO(out.data))
    assert image.format == "PNG" and out.extension == "png" and image.mode == "RGBA"
    corner = image.getpixel((0, 0))
    assert isinstance(corner, tuple) and corner[3] == 0  # transparent
    assert image.info.get("Copyright") == "Logo: OCC"


def test_the_focal_point_decides_what_the_crop_keeps() -> None:
    # A tall picture: red at the top, blue at the bottom.
    picture = Image.new("RGB", (600, 1200), "#2040c0")
    ImageDraw.Draw(picture).rectangle((0, 0, 600, 300), fill="#e02020")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=95)

    def middle_colour(focus: tuple[float, float] | None) -> tuple[int, ...]:
        out = Image.open(io.BytesIO(prepare_image(buffer.getvalue(), CARD, focus=focus).data))
        return out.convert("RGB").getpixel((out.width // 2, out.height // 4))  # type: ignore[return-value]

    assert middle_colour(None)[2] > 150  # the centre: blue
    assert middle_colour((0.5, 0.0))[0] > 150  # the top: red


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    out = prepare_image(jpeg((1200, 1800), exif=exif.tobytes()), Slot("x", 2000, (3, 2)))
    assert (out.width, out.height) == (1800, 1200)  # shown wide, as the camera meant: no crop


def test_a_decompression_bomb_is_refused() -> None:
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 megapixels in a small file
    assert len(bomb.getvalue()) < 1_000_000
    with pytest.raises(ImageProblem, match=r"144 megapixels|decompression bomb"):
        prepare_image(bomb.getvalue(), CARD, max_pixels=50_000_000)


def test_data_that_is_not_an_image_is_refused() -> None:
    with pytest.raises(ImageProblem, match="not an image"):
        prepare_image(b"GIF89a but not really", CARD)
    with pytest.raises(ImageProblem, match="damaged"):
        prepare_image(jpeg()[:2000], CARD)


# --- the build --------------------------------------------------------------------------------

ISSUE = """\
month: 2024-05
subject: Pictures for everyone
preheader: Three stories with pictures.
sections:
  - title: News
    stories:
      - id: lead1
        title: The lead story
        url: https://news.example.org/lead/
        image: {{url: "{base}/wide.jpg", alt: A wide picture, credit: "Photo: Lead"}}
      - id: card1
        title: A square picture
        url: https://news.example.org/square/
        image: {{url: "{base}/square.jpg", alt: A square picture}}
        overrides:
          focus: [0.5, 0.2]
      - id: card2
        title: A missing picture
        url: https://news.example.org/missing/
        image: {{url: "{base}/gone.jpg", alt: A missing picture}}
"""


@pytest.fixture
def project(tmp_path: Path, images: LocalServer) -> Project:
    images.routes["/wide.jpg"] = served(jpeg((2400, 1200)))
    images.routes["/square.jpg"] = served(jpeg((1000, 1000), colour="#aa5500"))
    images.routes["/gone.jpg"] = served(b"gone", "text/plain", 404)
    root = write_project(tmp_path / "project", [])
    (root / "issues").mkdir()
    (root / "issues" / "2024-05.yaml").write_text(ISSUE.format(base=images.url))
    return Project.at(root)


def test_build_publishes_prepared_images_beside_the_web_version(
    project: Project, images: LocalServer
) -> None:
    out = build_month(project, "2024-05")
    files = sorted(p.name for p in (out / "img").iterdir())
    assert len(files) == 2 and files[0].startswith("card1-card-") and files[1].startswith("lead1-")
    for page in ("email.html", "index.html"):
        tree = LexborHTMLParser((out / page).read_text())
        srcs = [img.attributes.get("src") or "" for img in tree.css("img")]
        assert f"https://news.example.org/2024-05/img/{files[1]}" in srcs
        assert f"https://news.example.org/2024-05/img/{files[0]}" in srcs
        assert f"{images.url}/gone.jpg" in srcs  # a failed image keeps its address
    lead = Image.open(out / "img" / files[1])
    assert lead.size == (1104, 621)
    requests = len(images.requests)
    build_month(project, "2024-05")  # again: from the cache; the failed one is tried again
    assert [p for p, _ in images.requests[requests:]] == ["/gone.jpg"]
    assert sorted(p.name for p in (out / "img").iterdir()) == files


def test_build_says_which_image_failed(project: Project) -> None:
    result = cli("build", "2024-05", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "img/ (2 images" in result.stdout
    assert "Image not prepared for “A missing picture”: HTTP 404" in result.stdout
    assert "kept its original address" in result.stdout


def test_check_weighs_the_images_against_the_budget(project: Project) -> None:
    report = check_issue(project, "2024-05")
    assert 0 < report.image_bytes < 400 * 1024 and report.image_budget == 1500 * 1024
    failed = [f for f in report.warnings if f.rule == "image"]
    assert len(failed) == 1 and "A missing picture" in failed[0].message
    assert not [f for f in report.findings if f.rule == "image-weight"]

    config = project.config_path.read_text() + "\n[images]\nbudget_kb = 1\n"
    project.config_path.write_text(config)
    report = check_issue(Project.at(project.root), "2024-05")
    (over,) = [f for f in report.warnings if f.rule == "image-weight"]
    assert "over the budget of 1 KB" in over.message
    result = cli("check", "2024-05", cwd=project.root)
    assert "KB of 1 KB" in result.stdout


def test_prepare_false_links_the_originals(project: Project, images: LocalServer) -> None:
    project.config_path.write_text(
        project.config_path.read_text() + "\n[images]\nprepare = false\n"
    )
    done = render_month(Project.at(project.root), "2024-05")
    assert done.images is not None and not done.images.prepared
    assert f"{images.url}/wide.jpg" in done.email.html
    assert images.requests == []


def test_focus_is_validated_with_its_line(tmp_path: Path) -> None:
    from newsletter.issuefile import validate_issue

    path = tmp_path / "2024-05.yaml"
    path.write_text(
        ISSUE.format(base="https://img.example.org").replace("[0.5, 0.2]", "[1.5, 0.2]")
    )
    report = validate_issue(path)
    (problem,) = report.errors
    assert problem.key.endswith("overrides.focus") and problem.line == 16
    assert "each from 0 (left or top) to 1 (right or bottom)" in problem.message


def test_the_focus_override_reaches_the_image() -> None:
    story = Story.model_validate(
        {
            "id": "a", "title": "A", "url": "https://x.example/",
            "image": {"url": "https://x.example/a.jpg", "alt": "A"},
            "overrides": {"focus": [0.25, 0.75]},
        }
    )  # fmt: skip
    picture = story.effective().image
    assert picture is not None and picture.focus == (0.25, 0.75)


def test_the_sample_issue_shows_its_local_pictures(sample_project: Path) -> None:
    project = Project.at(sample_project)
    done = render_month(project, "2020-10", fetch_images=False)
    assert done.images is not None and not done.images.failures
    assert len(done.images.prepared) == 4
    tree = LexborHTMLParser(done.email.html)
    srcs = [img.attributes.get("src") or "" for img in tree.css("img")]
    assert all(s.startswith("https://news.oslocancercluster.no/2020-10/img/") for s in srcs)
    issue = load_issue(project.issue_path("2020-10"))
    assert all(
        s.image and "oslocancercluster.no/wp-content/" in s.image.url for s in issue.stories()
    )
    for path in done.images.files().values():
        assert 5_000 < path.stat().st_size < 200_000


def test_a_preview_serves_the_prepared_images(sample_project: Path) -> None:
    import httpx

    from newsletter.preview.server import PreviewServer

    with PreviewServer(sample_project, "2020-10", port=0) as preview:
        html = httpx.get(preview.url + "email.html").text
        srcs = [img.attributes.get("src") or "" for img in LexborHTMLParser(html).css("img")]
        assert srcs and all(s.startswith("/img/") for s in srcs)
        answer = httpx.get(preview.url.rstrip("/") + srcs[0])
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(answer.content)).format == "JPEG"
        assert httpx.get(preview.url + "img/../newsletter.toml").status_code == 404


def test_concurrent_builds_share_the_cache(project: Project) -> None:
    errors: list[BaseException] = []

    def build() -> None:
        try:
            render_month(Project.at(project.root), "2024-05")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    cache = project.image_cache_dir
    assert not list(cache.rglob(".part-*"))
    assert len(list((cache / "src").glob("*.json"))) == 2


def test_readme_documents_the_images_settings() -> None:
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Story images") :]
    for key in ("budget_kb", "local_copies", "focus", "max_download_mb", "max_megapixels"):
        assert key in section, key


def test_screenshots_of_the_sample_show_its_pictures(sample_project: Path, tmp_path: Path) -> None:
    from newsletter.preview import PreviewError
    from newsletter.preview.screenshots import find_chromium, take_screenshots
    from newsletter.preview.snapshot import take_snapshot

    try:
        chromium = find_chromium()
    except PreviewError as exc:
        pytest.skip(f"{exc.message}: scripts/install-test-deps installs it with apt-get")
    snapshot = take_snapshot(sample_project, "2020-10")
    assert len(snapshot.images) == 4
    shots = take_screenshots(snapshot, tmp_path, chromium=chromium)
    for shot in shots:
        assert shot.blocked == 0, shot.view.name  # no grey placeholder: every picture loaded
    desktop = Image.open(next(s.path for s in shots if s.view.name == "desktop")).convert("RGB")
    # The lead picture's pale sun, where a placeholder would be flat grey (#d5d9de).
    colours = {desktop.getpixel((x, y)) for x in range(40, 560, 40) for y in range(560, 820, 40)}
    assert (0xD5, 0xD9, 0xDE) not in colours and len(colours) > 10


def test_a_served_decompression_bomb_fails_that_image_only(
    project: Project, images: LocalServer
) -> None:
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")
    images.routes["/wide.jpg"] = served(bomb.getvalue(), "image/png")
    done = render_month(project, "2024-05")
    assert done.images is not None
    failed = {f.story_id: f.reason for f in done.images.failures}
    assert "megapixels" in failed["lead1"] and "card1" in done.images.prepared
    assert f"{images.url}/wide.jpg" in done.email.html
