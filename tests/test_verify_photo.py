"""Photographing the QR in the verifier (拍照核验): photos made here from the code page's own QR
symbol, as a phone might take them (or not), decoded by the server and checked."""

import io
import logging
import tempfile

import pytest
import werkzeug.formparser
from PIL import Image, ImageDraw, ImageFilter

from blueprints.licence import service
from blueprints.licence.views import qr_symbol

from .helpers import page
from .test_verify import verdict


def code_page_qr(app, elicence, scale=8) -> Image.Image:
    """The QR the holder's code page shows now, rendered as a picture."""
    url = service.verify_url(
        app.config["PUBLIC_BASE_URL"], elicence, service.current_qr_code(elicence)
    )
    png = io.BytesIO()
    qr_symbol(url).save(png, kind="png", scale=scale, border=2)
    return Image.open(io.BytesIO(png.getvalue())).convert("RGB")


def jpeg(img: Image.Image, quality=85) -> bytes:
    """As a phone saves a photo."""
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def rendered(qr):
    return qr


def rotated(qr):
    return qr.rotate(27, expand=True, fillcolor=(235, 235, 235), resample=Image.BICUBIC)


def scaled_down(qr):
    return qr.resize((qr.width // 3, qr.height // 3), Image.LANCZOS)


def blurred(qr):
    return qr.filter(ImageFilter.GaussianBlur(2))


def on_a_phone_screen(qr):
    """A phone held out on a desk: dark bezel, a light screen with a glare gradient, the QR a
    third of the photo, a slight tilt and blur, saved as a 12-megapixel-ish JPEG."""
    photo = Image.new("RGB", (1500, 2000), (120, 104, 90))  # the desk
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((300, 250, 1200, 1750), radius=90, fill=(18, 18, 22))  # bezel
    draw.rectangle((345, 380, 1155, 1620), fill=(250, 250, 250))  # the screen
    screen_qr = qr.resize((620, 620), Image.BICUBIC)
    photo.paste(screen_qr, (440, 700))
    glare = Image.linear_gradient("L").rotate(40).resize(photo.size)
    photo = Image.composite(
        Image.new("RGB", photo.size, "white"), photo, glare.point(lambda v: v // 3)
    )
    return photo.rotate(-8, fillcolor=(120, 104, 90)).filter(ImageFilter.GaussianBlur(1.2))


def no_qr_at_all(_qr):
    photo = Image.linear_gradient("L").resize((1200, 900)).convert("RGB")
    ImageDraw.Draw(photo).text((100, 100), "no code here", fill=(0, 0, 0))
    return photo


def far_too_blurred(qr):
    return qr.resize((qr.width // 3, qr.height // 3)).filter(ImageFilter.GaussianBlur(12))


def post_photo(client, data: bytes, name="photo.jpg"):
    return client.post(
        "/verify/photo",
        data={"photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("make_photo", [rendered, rotated, scaled_down, blurred, on_a_phone_screen])
def test_a_plausible_photo_of_the_code_page_is_checked(client, make, app, make_photo):
    el = make.elicence()
    photo = jpeg(make_photo(code_page_qr(app, el)))
    response = post_photo(client, photo)
    assert verdict(response) == "valid"
    assert el.record.name in page(response).get_text()
    # The code in the photo is used up, like a scanned one (the same photo again: a new one
    # made after a step boundary would carry the next step's code).
    assert verdict(post_photo(client, photo)) == "used-code"


@pytest.mark.parametrize("make_photo", [no_qr_at_all, far_too_blurred])
def test_a_photo_with_no_readable_qr_gets_the_hint(client, make, app, make_photo):
    el = make.elicence()
    response = post_photo(client, jpeg(make_photo(code_page_qr(app, el))))
    soup = page(response, status=422)
    text = soup.get_text()
    assert "没有识别到二维码" in text and "拿稳手机" in text and "占满画面" in text
    assert soup.find("input", attrs={"type": "file", "capture": "environment"})
    # The inspector can try again with the typed form right there.
    assert soup.find("input", id="key")


def test_english_hint(client):
    response = client.post(
        "/verify/photo?hl=en",
        data={"photo": (io.BytesIO(jpeg(no_qr_at_all(None))), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert "Hold the phone steady, fill the frame" in response.get_data(as_text=True)


def test_a_qr_that_is_not_a_licence_code(client):
    png = io.BytesIO()
    qr_symbol("https://example.com/v/abc/def").save(png, kind="png", scale=8)
    soup = page(post_photo(client, png.getvalue(), "x.png"), status=422)
    assert "不是本市驾驶证核验码" in soup.get_text()


def test_a_file_that_is_no_picture(client):
    soup = page(post_photo(client, b"%PDF-1.7 not a photo", "x.pdf"), status=422)
    assert "无法读取此文件" in soup.get_text()


def test_no_photo(client):
    assert post_photo(client, b"", "").status_code == 400


def test_a_decompression_bomb_is_refused_before_decoding(client):
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, "PNG")  # 81 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    soup = page(post_photo(client, bomb.getvalue(), "x.png"), status=422)
    assert "照片过大" in soup.get_text()


def test_an_oversized_upload_is_refused(client):
    from core.qrphoto import PHOTO_MAX_BYTES

    response = post_photo(client, b"\xff" * (PHOTO_MAX_BYTES + 10_000))
    assert response.status_code == 413


def test_the_photo_never_touches_the_disk_or_the_log(client, make, app, monkeypatch, caplog):
    """A big photo (Werkzeug spools parts over 500 KB to a temporary file) stays in memory."""

    def no_disk(*args, **kwargs):
        raise AssertionError("the photo went to a temporary file")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, no_disk)
    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_disk)  # its own name
    el = make.elicence()
    big = on_a_phone_screen(code_page_qr(app, el)).resize((3000, 4000))
    data = jpeg(big, quality=98)
    assert len(data) > 1024 * 500
    with caplog.at_level(logging.DEBUG):
        assert verdict(post_photo(client, data)) == "valid"
    assert all(len(r.getMessage()) < 2000 for r in caplog.records)


def test_the_photo_form_is_script_free_and_sets_no_cookie(client):
    response = client.get("/verify")
    soup = page(response)
    form = soup.find("form", action="/verify/photo")
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    field = form.find("input", attrs={"name": "photo"})
    assert field["type"] == "file" and field["accept"] == "image/*"
    assert field["capture"] == "environment"
    assert "<script" not in response.get_data(as_text=True)
    result = post_photo(client, jpeg(no_qr_at_all(None)))
    css = len(client.get("/static/css/verify.css").get_data())
    for body in (response.get_data(), result.get_data()):
        assert len(body) + css < 8192, len(body) + css
    assert "Set-Cookie" not in result.headers
    assert result.headers["Cache-Control"] == "no-store"
    assert "script-src 'none'" in result.headers["Content-Security-Policy"]


def test_a_png_declaring_many_megapixels_and_other_formats_are_refused(client):
    """A PNG is decoded whole: one declaring far more than a phone's screenshot is refused
    from its header; a format no phone camera gives (a GIF) is not decoded at all."""
    big = io.BytesIO()
    Image.new("1", (5000, 4000)).save(big, "PNG")  # 20 megapixels in a few kilobytes
    soup = page(post_photo(client, big.getvalue(), "x.png"), status=422)
    assert "照片过大" in soup.get_text()
    gif = io.BytesIO()
    Image.new("L", (200, 200)).save(gif, "GIF")
    soup = page(post_photo(client, gif.getvalue(), "x.gif"), status=422)
    assert "无法读取此文件" in soup.get_text()


def test_a_network_posting_photos_in_a_loop_is_stopped(client, monkeypatch):
    from blueprints import verify

    monkeypatch.setattr(verify, "PHOTOS_PER_NETWORK", 3)
    for _ in range(3):
        assert post_photo(client, b"%PDF-1.7 not a photo", "x.pdf").status_code == 422
    stopped = post_photo(client, b"%PDF-1.7 not a photo", "x.pdf")
    assert stopped.status_code == 429 and "几分钟" in page(stopped, status=429).get_text()
