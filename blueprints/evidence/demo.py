"""Demo data of measure 4: accident cases of the Shinan brigade with generated evidence.

The files are made here at load time (a scene diagram drawn with Pillow, a survey record and
a witness statement as PDFs, a photo-like JPEG) and stored like uploads, via store_bytes.
"""

import datetime as dt
import io

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from core.audit import audit
from core.uploads import store_bytes
from models import AccidentCase, CaseParty, EvidenceItem, ReviewRequest

from .files import FONT_PATH, PDF_FONT, register_pdf_font
from .notices import tell_review_requested
from .querycodes import hash_code
from .service import ALLOWED_TYPES, DEFAULT_MAX_BYTES, UPLOAD_SUBFOLDER

# The query code of the first party of the first demo case, for trying the notice path.
DEMO_QUERY_CODE = "DEMO-CASE"


def scene_diagram(case_no: str, place: str) -> bytes:
    """A drawn scene diagram (现场图): a crossroads, two vehicles, their paths, a legend."""
    img = Image.new("RGB", (1200, 900), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT_PATH, 28)
    small = ImageFont.truetype(FONT_PATH, 22)
    road = (205, 208, 212)
    d.rectangle((0, 330, 1200, 570), fill=road)
    d.rectangle((480, 0, 720, 900), fill=road)
    for x in range(0, 1200, 80):  # centre lines, broken in the junction
        if not 460 < x < 720:
            d.line((x, 450, x + 40, 450), fill="white", width=5)
    for y in range(0, 900, 80):
        if not 310 < y < 570:
            d.line((600, y, 600, y + 40), fill="white", width=5)
    d.rectangle((250, 470, 390, 540), outline=(11, 92, 173), width=6)  # vehicle A, eastbound
    d.text((300, 485), "A", font=font, fill=(11, 92, 173))
    d.line((100, 505, 250, 505), fill=(11, 92, 173), width=4)
    d.rectangle((620, 620, 690, 760), outline=(179, 38, 30), width=6)  # vehicle B, northbound
    d.text((643, 670), "B", font=font, fill=(179, 38, 30))
    d.line((655, 760, 655, 880), fill=(179, 38, 30), width=4)
    d.ellipse((600, 480, 640, 520), outline="black", width=4)  # point of impact
    d.text((650, 470), "×", font=font, fill="black")
    d.polygon([(1110, 60), (1095, 110), (1125, 110)], fill="black")  # north arrow
    d.text((1100, 115), "北", font=small, fill="black")
    d.text((30, 20), "道路交通事故现场图", font=font, fill="black")
    d.text((30, 60), f"案号 {case_no}  地点 {place}", font=small, fill="black")
    d.text(
        (30, 800), "A 小型轿车 鲁B·12345  B 小型轿车 鲁B·6789D  × 碰撞点", font=small, fill="black"
    )
    d.text((30, 840), "比例 1:200  绘图 陈静  (演示数据)", font=small, fill="black")
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def scene_photo() -> bytes:
    """A photo-like JPEG: sky, road, a vehicle's silhouette."""
    img = Image.new("RGB", (1024, 768), (150, 190, 225))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 430, 1024, 768), fill=(90, 92, 96))
    d.rounded_rectangle((300, 330, 720, 520), radius=40, fill=(200, 40, 40))
    d.ellipse((350, 480, 450, 580), fill=(20, 20, 20))
    d.ellipse((570, 480, 670, 580), fill=(20, 20, 20))
    d.text((20, 20), "DEMO", font=ImageFont.truetype(FONT_PATH, 30), fill="white")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def text_pdf(title: str, lines: list[str]) -> bytes:
    """A simple record as a PDF in Chinese (survey record, witness statement, appraisal)."""
    register_pdf_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    c.setFont(PDF_FONT, 18)
    c.drawCentredString(width / 2, height - 72, title)
    c.setFont(PDF_FONT, 11)
    y = height - 120
    for line in lines:
        if y < 72:
            c.showPage()
            c.setFont(PDF_FONT, 11)
            y = height - 72
        c.drawString(72, y, line)
        y -= 22
    c.drawString(72, 60, "（演示数据，人物与事件均为虚构）")
    c.showPage()
    c.save()
    return buf.getvalue()


def store(data: bytes):
    """Store a generated file as an upload would be stored."""
    return store_bytes(data, UPLOAD_SUBFOLDER, ALLOWED_TYPES, DEFAULT_MAX_BYTES)


def add_item(case, officer, category, title, data, released=True, reason=None, note=""):
    """An evidence item for a generated file."""
    stored = store(data)
    return EvidenceItem.create(
        case=case,
        category=category,
        title=title,
        file_path=stored.relpath,
        sha256=stored.sha256,
        size=stored.size,
        mime=stored.mime,
        released=released,
        withhold_reason=reason,
        withhold_note=note,
        uploaded_by=officer,
    )


def load_demo(context) -> None:
    """Four cases at the Shinan brigade, at different stages, with demo citizens as parties."""
    office = context.offices["370202"]
    officer = context.staff["accident"]
    people = context.citizens
    cases = [
        # case no, occurred (UTC), place, procedure, status, delivered on, parties
        (
            "3702022021000101",
            dt.datetime(2021, 8, 20, 1, 40),
            "香港中路与燕儿岛路交叉口",
            "general",
            "open_for_review",
            dt.date(2021, 9, 3),
            [(people[0], "driver"), (people[1], "driver"), (people[2], "owner")],
        ),
        (
            "3702022021000102",
            dt.datetime(2021, 8, 28, 11, 15),
            "东海西路与南京路交叉口",
            "general",
            "evidence_gathered",
            None,
            [(people[3], "driver"), (people[4], "injured")],
        ),
        (
            "3702022021000103",
            dt.datetime(2021, 8, 30, 23, 5),
            "延安三路 96 号门前",
            "simple",
            "closed",
            dt.date(2021, 8, 31),
            [(people[5], "driver"), (people[6], "driver")],
        ),
        (
            "3702022021000104",
            dt.datetime(2021, 7, 12, 6, 30),
            "山东路与福州路交叉口",
            "general",
            "closed",
            dt.date(2021, 8, 2),
            [(people[7], "relative"), (people[0], "agent"), (people[8], "insurer")],
        ),
    ]
    made = []
    for case_no, occurred, place, procedure, status, delivered, parties in cases:
        case = AccidentCase.create(
            case_no=case_no,
            office=office,
            officer=officer,
            occurred_at=occurred,
            place=place,
            description="两车在路口发生碰撞，无人死亡。（演示数据）",
            procedure=procedure,
            determination_delivered_on=delivered,
            status=status,
            created_by=officer,
        )
        for person, role in parties:
            CaseParty.create(
                case=case,
                name=person.real_name,
                resident_id=person.resident_id,
                mobile=person.mobile,
                role=role,
            )
        made.append(case)
    first, second, _simple, fourth = made
    CaseParty.update(query_code_hash=hash_code(DEMO_QUERY_CODE)).where(
        (CaseParty.case == first) & (CaseParty.resident_id == people[0].resident_id)
    ).execute()

    survey = [
        "勘查时间：2021年8月20日 09时55分至10时40分",
        "勘查地点：香港中路与燕儿岛路交叉口",
        "天气：晴  路面：沥青，干燥  照明：白天",
        "现场方位：A车由西向东行驶，B车由南向北行驶，两车在路口中心处碰撞。",
        "痕迹物证：A车右前部凹陷，B车左前部凹陷；路面有散落物，无制动痕迹。",
        "勘查人员：陈静、杨磊",
    ]
    add_item(first, officer, "scene_diagram", "现场图", scene_diagram(first.case_no, first.place))
    add_item(
        first,
        officer,
        "survey_record",
        "现场勘查笔录",
        text_pdf("道路交通事故现场勘查笔录", survey),
    )
    add_item(first, officer, "photo", "现场照片 1", scene_photo())
    add_item(
        first,
        officer,
        "other",
        "证人证言",
        text_pdf("询问笔录（证人）", ["证人陈述：（演示数据）"]),
        released=False,
        reason="witness",
        note="证人要求不公开身份",
    )
    add_item(
        second, officer, "scene_diagram", "现场图", scene_diagram(second.case_no, second.place)
    )
    add_item(
        fourth,
        officer,
        "appraisal",
        "车辆技术鉴定意见书",
        text_pdf("司法鉴定意见书", ["鉴定事项：车辆制动性能", "鉴定意见：制动系统工作正常。"]),
    )
    add_item(
        fourth, officer, "scene_diagram", "现场图", scene_diagram(fourth.case_no, fourth.place)
    )
    waiting_review(first, people[1], officer, getattr(context, "notes", None))


def waiting_review(case, person, officer, notes) -> None:
    """A review request (复核申请) of the first case, asked by its second driver the day after
    the determination was delivered, still waiting in the officer's queue."""
    party = CaseParty.get((CaseParty.case == case) & (CaseParty.resident_id == person.resident_id))
    grounds = "现场图未标出 B 车的制动痕迹，与现场勘查笔录不一致，请复核现场图和勘查笔录。"
    request = ReviewRequest.create(
        case=case,
        party=party,
        user=person,
        grounds=grounds,
        requested_at=dt.datetime(2021, 9, 4, 1, 30),  # 09:30 in Qingdao
    )
    audit("evidence.review_requested", request, actor=person, detail={"case": case.id})
    tell_review_requested(case, party, grounds)
    if notes is not None:
        notes.append(
            f"{person.real_name}: asked for a review (复核) of case {case.case_no}; it waits "
            f"for accident ({officer.real_name}) at /evidence/reviews"
        )
