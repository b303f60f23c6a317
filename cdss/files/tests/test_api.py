"""/api/v1/patients/{id}/files/, /api/v1/files/{id}/ and /content: uploads of every role, clear
400s that leave nothing on disk, one stored copy per content, downloads, and the audit trail."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdss.audit.models import AccessEvent, Outcome
from cdss.common.limits import body_limit_for
from cdss.files.models import PatientFile
from cdss.files.tests import builders as b
from cdss.files.tests.factories import patient_file_of

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "patient",
    "role",
    "name",
    "size",
    "sha256",
    "content_type",
    "format",
    "metadata",
    "uploaded_by",
    "created_at",
}


def _upload(client, patient, content: bytes, role: str, name: str = "upload.bin", **extra):
    return client.post(
        reverse("patient-file-list", kwargs={"patient_id": patient.pk}),
        {
            "file": SimpleUploadedFile(name, content, "application/x-anything"),
            "role": role,
            **extra,
        },
        format="multipart",
    )


def _files_on_disk(media_root: Path) -> list[Path]:
    return sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []


@pytest.mark.parametrize(
    ("content", "role", "name", "fmt", "content_type"),
    [
        (b.nifti_gz((6, 5, 4)), "ct_volume", "ct.nii.gz", "nifti-gz", "application/gzip"),
        (b.nifti((6, 5, 4)), "ct_volume", "ct.nii", "nifti", "application/octet-stream"),
        (b.dicom_zip(3), "ct_volume", "series.zip", "dicom-zip", "application/zip"),
        (
            b.nifti_gz(datatype=2, bitpix=8, bytes_per_voxel=1),
            "segmentation",
            "seg.nii.gz",
            "nifti-gz",
            "application/gzip",
        ),
        (b.mask_zip(), "segmentation", "masks.zip", "mask-zip", "application/zip"),
        (b.OMICS_CSV, "omics_table", "omics.csv", "csv", "text/csv"),
        (b.OMICS_TSV, "omics_table", "omics.tsv", "tsv", "text/tab-separated-values"),
        (b.PDF, "document", "report.pdf", "pdf", "application/pdf"),
        (b.MARKDOWN, "document", "summary.md", "markdown", "text/markdown"),
        (b.HTML, "document", "report.html", "html", "text/html"),
    ],
)
def test_each_role_uploads_and_is_stored_by_content_hash(
    make_client, clinician_a, patient_a, media_root, content, role, name, fmt, content_type
):
    response = _upload(make_client(clinician_a), patient_a, content, role, name)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    sha256 = hashlib.sha256(content).hexdigest()
    assert body["patient"] == patient_a.pk and body["uploaded_by"] == clinician_a.pk
    assert (body["role"], body["name"], body["size"], body["sha256"]) == (
        role,
        name,
        len(content),
        sha256,
    )
    # Sniffed: the client said application/x-anything.
    assert (body["format"], body["content_type"]) == (fmt, content_type)
    stored = media_root / "files" / sha256[:2] / sha256
    assert stored.read_bytes() == content
    assert _files_on_disk(media_root) == [stored]  # the staged copy is gone
    # Owner and group only: nginx (in the group) sends it with X-Accel-Redirect; others nothing.
    assert oct(stored.stat().st_mode & 0o777) == oct(0o640)
    assert PatientFile.objects.get(pk=body["id"]).path == stored


def test_the_same_content_is_stored_once(make_client, clinician_a, patient_a, media_root):
    client = make_client(clinician_a)
    first = _upload(client, patient_a, b.PDF, "document", "a.pdf").json()
    second = _upload(client, patient_a, b.PDF, "document", "b.pdf").json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert len(_files_on_disk(media_root)) == 1
    assert PatientFile.objects.filter(sha256=first["sha256"]).count() == 2


@pytest.mark.parametrize(
    ("content", "role", "words"),
    [
        (b"", "document", ("file: the file is empty",)),
        (
            b.nifti_gz((16, 16, 16), voxels=os.urandom(16**3 * 2))[:3000],
            "ct_volume",
            ("truncated",),
        ),
        (
            b.nifti_header((64, 64, 64)) + bytes(4) + bytes(100),
            "ct_volume",
            ("truncated", "header declares"),
        ),
        (
            gzip.compress(b.nifti_header((2048, 2048, 2000)) + bytes(4)),
            "ct_volume",
            ("voxels", "over the limit"),
        ),
        (
            gzip.compress(b.nifti_header((512, 512, 1000), datatype=64, bitpix=64) + bytes(4)),
            "ct_volume",
            ("decodes to", "over the limit"),
        ),
        (b.zip_of({"../IM1.dcm": b.dicom_slice()}), "ct_volume", ("not a safe relative name",)),
        (
            b.zip_of({"IM1.dcm": b.dicom_slice(), "x.txt": b"text"}),
            "ct_volume",
            ("'x.txt' is not a DICOM file",),
        ),
        (b"id,mrna:A\nS1,\xe9\n", "omics_table", ("not UTF-8", "line 2")),
        (b"id,mrna:A\nS1," + b"1" * 1000 + b"\n", "omics_table", ("over the limit of 256",)),
        (b.PDF, "ct_volume", ("a ct_volume must be", "this file is a PDF")),
        (b.nifti_gz(), "document", ("a document must be", "a gzip file")),
    ],
)
def test_bad_files_are_clear_400s_that_leave_nothing(
    make_client, clinician_a, patient_a, media_root, content, role, words
):
    response = _upload(make_client(clinician_a), patient_a, content, role, "f.bin")
    assert response.status_code == 400, response.content
    body = response.json()
    for word in words:
        assert word in body["error"], (word, body)
    assert body["detail"] == {"file": [body["error"]]}
    assert PatientFile.objects.count() == 0
    assert _files_on_disk(media_root) == []
    event = AccessEvent.objects.get(action="patient_file.create")
    assert (event.outcome, event.patient_id) == (Outcome.FAILED, patient_a.pk)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"role": "xray"}, "role"),
        ({}, "role"),
        ({"role": "document", "notes": "x"}, "notes"),
    ],
)
def test_bad_fields_name_the_field(make_client, clinician_a, patient_a, media_root, data, field):
    response = make_client(clinician_a).post(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
        {"file": SimpleUploadedFile("n.txt", b"note\n"), **data},
        format="multipart",
    )
    assert response.status_code == 400
    assert field in response.json()["error"] and field in response.json()["detail"]
    assert _files_on_disk(media_root) == []


def test_a_missing_file_is_named(make_client, clinician_a, patient_a):
    response = make_client(clinician_a).post(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
        {"role": "document"},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()["detail"]


def test_json_is_not_an_upload(make_client, clinician_a, patient_a):
    response = make_client(clinician_a).post(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
        {"role": "document", "file": "aGVsbG8="},
        format="json",
    )
    assert response.status_code == 415


def test_the_file_name_is_sanitised(make_client, clinician_a, patient_a):
    # A plain file object: SimpleUploadedFile would shorten the name itself before sending it.
    named = io.BytesIO(b.nifti_gz())
    named.name = "a" * 300 + ".nii.gz"
    body = (
        make_client(clinician_a)
        .post(
            reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}),
            {"file": named, "role": "ct_volume"},
            format="multipart",
        )
        .json()
    )
    assert len(body["name"]) == 255 and body["name"].endswith("a.nii.gz")
    body = _upload(make_client(clinician_a), patient_a, b.PDF, "document", "..\\x\x07y.pdf").json()
    assert body["name"] == "xy.pdf"


def test_the_upload_route_admits_the_largest_role_and_nothing_else_changes(settings):
    route = body_limit_for("/api/v1/patients/7/files/")
    assert route == max(settings.CDSS_FILES_MAX_BYTES.values()) + 1024 * 1024
    assert route >= 1024**3
    for path in ("/api/v1/patients/", "/api/v1/patients/7/", "/api/v1/patients/7/files/x"):
        assert body_limit_for(path) == settings.CDSS_MAX_REQUEST_BODY
    assert body_limit_for("/ml/v1/predict/") == settings.CDSS_UPLOAD_LIMITS["/ml/v1/predict/"]


def test_an_upload_over_the_route_limit_is_413_before_it_is_read(
    make_client, clinician_a, patient_a, media_root, settings
):
    settings.CDSS_UPLOAD_LIMITS = {r"^/api/v1/patients/[0-9]+/files/$": 4096}
    response = _upload(make_client(clinician_a), patient_a, b"x" * 8192, "document")
    assert response.status_code == 413
    assert "over the limit of 4096 bytes" in response.json()["error"]
    assert _files_on_disk(media_root) == []


def test_a_file_over_its_roles_limit_is_refused(
    make_client, clinician_a, patient_a, media_root, settings
):
    settings.CDSS_FILES_MAX_BYTES = {**settings.CDSS_FILES_MAX_BYTES, "omics_table": 16}
    response = _upload(make_client(clinician_a), patient_a, b.OMICS_CSV, "omics_table")
    assert response.status_code == 400
    assert "over the limit of 16 bytes for an omics_table" in response.json()["error"]
    assert _files_on_disk(media_root) == []


def test_list_detail_and_content(make_client, clinician_a, patient_a):
    client = make_client(clinician_a)
    ct = _upload(client, patient_a, b.nifti_gz(), "ct_volume", "ct.nii.gz").json()
    note = _upload(client, patient_a, b.MARKDOWN, "document", "summary.md").json()
    listed = client.get(reverse("patient-file-list", kwargs={"patient_id": patient_a.pk})).json()
    assert listed["count"] == 2 and [f["id"] for f in listed["results"]] == [note["id"], ct["id"]]
    only_ct = client.get(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}), {"role": "ct_volume"}
    ).json()
    assert [f["id"] for f in only_ct["results"]] == [ct["id"]]
    bad = client.get(
        reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}), {"role": "xray"}
    )
    assert bad.status_code == 400 and "role" in bad.json()["error"]

    detail = client.get(reverse("patient-file-detail", kwargs={"file_id": ct["id"]})).json()
    assert detail == ct and detail["metadata"]["dims"] == [4, 4, 4]

    response = client.get(reverse("patient-file-content", kwargs={"file_id": note["id"]}))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b.MARKDOWN
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="summary.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"] == f'"{note["sha256"]}"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Length"] == str(len(b.MARKDOWN))
    _close_file(response)


def _close_file(response) -> None:
    # Not response.close(): that sends request_finished again, and on PostgreSQL Django then
    # closes the test's database connection in the middle of its transaction.
    for close in response._resource_closers:
        close()


def test_content_ignores_the_accept_header(make_client, clinician_a, patient_a):
    patient_file = patient_file_of(patient_a, clinician_a, b.PDF, name="r.pdf")
    url = reverse("patient-file-content", kwargs={"file_id": patient_file.pk})
    response = make_client(clinician_a).get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    _close_file(response)
    missing = make_client(clinician_a).get(
        reverse("patient-file-content", kwargs={"file_id": 987654}), HTTP_ACCEPT="application/pdf"
    )
    assert missing.status_code == 404 and missing.json()["error"] == "Not found."


def test_content_through_nginx(make_client, clinician_a, patient_a, settings):
    settings.CDSS_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    patient_file = patient_file_of(patient_a, clinician_a, b.PDF, name="Hong report.pdf")
    response = make_client(clinician_a).get(
        reverse("patient-file-content", kwargs={"file_id": patient_file.pk})
    )
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{patient_file.storage_path}"
    assert response["Content-Disposition"] == 'attachment; filename="Hong report.pdf"'


def test_every_read_is_audited_exactly_once(make_client, clinician_a, patient_a):
    client = make_client(clinician_a)
    files = [patient_file_of(patient_a, clinician_a, f"note {i}\n".encode()) for i in range(3)]
    created = AccessEvent.objects.filter(action="patient_file.create", outcome=Outcome.OK)
    assert sorted(created.values_list("object_id", flat=True)) == sorted(str(f.pk) for f in files)
    client.get(reverse("patient-file-detail", kwargs={"file_id": files[0].pk}))
    _close_file(client.get(reverse("patient-file-content", kwargs={"file_id": files[1].pk})))
    client.get(reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}), {"page_size": 2})
    events = AccessEvent.objects.exclude(action="patient_file.create").order_by("id")
    assert list(events.values_list("action", "outcome", "patient_id", "object_id")) == [
        ("patient_file.read", Outcome.OK, patient_a.pk, str(files[0].pk)),
        ("patient_file.export", Outcome.OK, patient_a.pk, str(files[1].pk)),
        ("patient_file.list", Outcome.OK, patient_a.pk, str(files[2].pk)),
        ("patient_file.list", Outcome.OK, patient_a.pk, str(files[1].pk)),
    ]


def test_an_empty_list_is_audited_against_the_patient(make_client, clinician_a, patient_a):
    body = (
        make_client(clinician_a)
        .get(reverse("patient-file-list", kwargs={"patient_id": patient_a.pk}))
        .json()
    )
    assert body["count"] == 0
    event = AccessEvent.objects.get(action="patient_file.list")
    assert (event.patient_id, event.object_type, event.object_id) == (
        patient_a.pk,
        "patient_file",
        "",
    )


def _asgi_status(path: str, declared: int, chunks: int) -> tuple[int, int]:
    """Drives the project's ASGI app with a multipart POST; returns (status, bytes pulled)."""
    import asyncio

    from config.asgi import application

    pulled = 0
    ended = False
    sent: list[dict] = []

    async def receive():
        nonlocal pulled, ended
        if ended:  # the client waits for the answer (Django listens for a disconnect meanwhile)
            await asyncio.Event().wait()
        if pulled >= chunks * 1024 * 1024:
            ended = True
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1024 * 1024
        return {"type": "http.request", "body": b"x" * 1024 * 1024, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"multipart/form-data; boundary=XYZ"),
            (b"content-length", str(declared).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(application(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], pulled


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_upload_route_takes_large_bodies_and_refuses_larger_ones_unread():
    # 5 MB: over the API's default 2 MB, so only the route's own limit lets it through (to the
    # missing token's 401).
    assert _asgi_status("/api/v1/patients/1/files/", 5 * 1024 * 1024, chunks=5)[0] == 401
    # A small excess elsewhere is read to its end and dropped before the 413 (a proxy still
    # sending it would otherwise see a reset: cdss/common/asgi.py); a large one is refused unread.
    assert _asgi_status("/api/v1/patients/1/", 5 * 1024 * 1024, chunks=5) == (413, 5 * 1024 * 1024)
    assert _asgi_status("/api/v1/patients/1/files/", 4 * 1024**3, chunks=1) == (413, 0)
