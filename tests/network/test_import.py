"""A school's plan imported from a spreadsheet: VLANs, prefixes, ranges and reservations
created with a row report, bad rows rejected with their reason, the same file again
changing nothing; an XLSX alike."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from inventory.network.models import DhcpRange, IpAddress, Prefix, Vlan

ROWS = [
    [
        "type",
        "vlan",
        "name",
        "prefix",
        "role",
        "gateway",
        "dns",
        "start",
        "end",
        "address",
        "mac",
        "hostname",
    ],
    ["vlan", "10", "Pédagogie", "", "", "", "", "", "", "", "", ""],
    ["vlan", "20", "Administration", "", "", "", "", "", "", "", "", ""],
    [
        "prefix",
        "10",
        "",
        "10.94.40.0/24",
        "pedagogique",
        "10.94.40.1",
        "10.94.0.53",
        "",
        "",
        "",
        "",
        "",
    ],
    ["prefix", "20", "", "10.194.40.0/26", "administration", "10.194.40.1", "", "", "", "", "", ""],
    ["range", "", "", "10.94.40.0/24", "", "", "", "10.94.40.100", "10.94.40.199", "", "", ""],
    [
        "reservation",
        "",
        "",
        "10.94.40.0/24",
        "",
        "",
        "",
        "",
        "",
        "10.94.40.10",
        "3C-22-FB-00-00-40",
        "eni-cm1",
    ],
    # Rejected: overlapping, outside its prefix, the gateway, an unknown type.
    ["prefix", "", "", "10.94.40.128/25", "invites", "", "", "", "", "", "", ""],
    [
        "reservation",
        "",
        "",
        "10.94.40.0/24",
        "",
        "",
        "",
        "",
        "",
        "10.94.41.10",
        "3c:22:fb:00:00:41",
        "",
    ],
    [
        "reservation",
        "",
        "",
        "10.94.40.0/24",
        "",
        "",
        "",
        "",
        "",
        "10.94.40.1",
        "3c:22:fb:00:00:42",
        "",
    ],
    ["switch", "", "", "", "", "", "", "", "", "", "", ""],
]


def _csv(rows):
    return ("\n".join(";".join(r) for r in rows) + "\n").encode()


def _upload(tech, ecole, data, name):
    return tech.post(
        f"/ecoles/{ecole}/reseau/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_import_a_plan_twice(tech, school, db_session):
    ecole = school["ecole"]
    assert tech.get(f"/ecoles/{ecole}/reseau/import").status_code == 200
    page = _upload(tech, ecole, _csv(ROWS), "plan.csv").get_data(as_text=True)
    assert "<strong>6</strong> created" in page and "<strong>4</strong> rejected" in page
    assert "overlaps 10.94.40.0/24" in page and "outside 10.94.40.0/24" in page
    assert "is the gateway" in page and "vlan, prefix, range or reservation" in page
    assert (
        db_session.scalar(select(Vlan.name).filter_by(ecole_id=ecole, vid=20)) == "Administration"
    )
    prefix = db_session.scalar(select(Prefix).filter_by(cidr="10.94.40.0/24"))
    assert prefix.vlan.vid == 10 and prefix.dns_list == ["10.94.0.53"]
    assert db_session.scalar(select(DhcpRange.end).filter_by(prefix_id=prefix.id)) == "10.94.40.199"
    row = db_session.scalar(select(IpAddress).filter_by(prefix_id=prefix.id))
    assert (row.address, row.mac, row.hostname) == ("10.94.40.10", "3c:22:fb:00:00:40", "eni-cm1")
    again = _upload(tech, ecole, _csv(ROWS), "plan.csv").get_data(as_text=True)
    assert "<strong>0</strong> created" in again and "<strong>6</strong> unchanged" in again
    # The same plan as a spreadsheet, a hostname changed: one row updated.
    book = Workbook()
    sheet = book.active
    for r in ROWS[:7]:
        sheet.append(r)
    sheet.cell(row=7, column=12, value="eni-cm2")
    out = io.BytesIO()
    book.save(out)
    xlsx = _upload(tech, ecole, out.getvalue(), "plan.xlsx").get_data(as_text=True)
    assert "<strong>1</strong> updated" in xlsx and "<strong>5</strong> unchanged" in xlsx
    db_session.expire_all()
    assert db_session.get(IpAddress, row.id).hostname == "eni-cm2"
