"""The upload checks on their own: every format each role accepts, and every way a file is refused,
each with a message that names the problem."""

from __future__ import annotations

import gzip
import os
import struct
import zipfile
from pathlib import Path

import pytest

from cdss.files.tests import builders as b
from cdss.files.validation import FileLimits, FileRejected, check_file

LIMITS = FileLimits(max_bytes=64 * 1024 * 1024)
DATASETS = Path(
    os.environ.get("CDSS_DATASETS_DIR")
    or Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
)
EXAMPLE_CT = DATASETS / "imaging" / "totalsegmentator_example_ct"


@pytest.fixture
def check(tmp_path):
    def _check(data: bytes, role: str, name: str = "upload.bin", limits: FileLimits = LIMITS):
        path = tmp_path / "upload"
        path.write_bytes(data)
        return check_file(path, role=role, name=name, size=len(data), limits=limits)

    return _check


def refused(check, data: bytes, role: str, *words: str, **kwargs) -> str:
    with pytest.raises(FileRejected) as caught:
        check(data, role, **kwargs)
    message = caught.value.message
    assert message.startswith("file: "), message
    for word in words:
        assert word in message, (word, message)
    return message


# --- accepted ---------------------------------------------------------------------------------


def test_a_nifti_ct_is_accepted_with_its_grid(check):
    result = check(b.nifti((8, 6, 4), pixdim=(0.8, 0.8, 2.5)), "ct_volume")
    assert result.format == "nifti" and result.content_type == "application/octet-stream"
    assert result.metadata["dims"] == [8, 6, 4]
    assert result.metadata["spacing_mm"] == pytest.approx([0.8, 0.8, 2.5])
    assert result.metadata["datatype"] == "int16"
    assert result.metadata["decoded_bytes"] == 352 + 8 * 6 * 4 * 2


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("version", [1, 2])
def test_nifti_1_and_2_in_either_byte_order(check, version, endian):
    data = b.nifti_gz(
        (5, 4, 3), version=version, endian=endian, datatype=16, bitpix=32, bytes_per_voxel=4
    )
    result = check(data, "ct_volume")
    assert result.format == "nifti-gz" and result.content_type == "application/gzip"
    assert result.metadata["nifti_version"] == version
    assert result.metadata["datatype"] == "float32" and result.metadata["dims"] == [5, 4, 3]


def test_a_trailing_time_axis_of_one_is_a_3d_volume(check):
    assert check(b.nifti((4, 4, 4, 1)), "ct_volume").metadata["dims"] == [4, 4, 4]


def test_a_dicom_series_zip(check):
    result = check(b.dicom_zip(4), "ct_volume")
    assert (result.format, result.metadata) == ("dicom-zip", {"members": 4})


def test_a_dicom_zip_skips_folders_and_archiver_litter(check):
    data = b.zip_of(
        {"s/": b"", "__MACOSX/s/._IM1": b"junk", "s/.DS_Store": b"x", "s/IM1": b.dicom_slice()}
    )
    assert check(data, "ct_volume").metadata == {"members": 1}


def test_a_multilabel_segmentation(check):
    result = check(b.nifti_gz((4, 4, 4), datatype=2, bitpix=8, bytes_per_voxel=1), "segmentation")
    assert result.format == "nifti-gz" and result.metadata["datatype"] == "uint8"


def test_a_zip_of_masks_names_its_structures(check):
    result = check(b.mask_zip(("spleen", "liver", "kidney_left")), "segmentation")
    assert result.format == "mask-zip"
    assert result.metadata["structures"] == ["kidney_left", "liver", "spleen"]
    assert result.metadata["dims"] == [4, 4, 4] and result.metadata["members"] == 3


def test_a_zip_of_uncompressed_masks(check):
    mask = b.nifti((4, 4, 4), datatype=2, bitpix=8, bytes_per_voxel=1)
    result = check(b.zip_of({"aorta.nii": mask}), "segmentation")
    assert result.metadata["structures"] == ["aorta"]


def test_a_tsv_with_old_mac_line_endings(check):
    assert check(b"id\tmrna:A\rS1\t1,5\r", "omics_table").format == "tsv"


def test_csv_and_tsv_omics_tables(check):
    csv = check(b.OMICS_CSV, "omics_table")
    assert (csv.format, csv.content_type) == ("csv", "text/csv")
    assert csv.metadata == {
        "rows": 2,
        "columns": 4,
        "layers": {"mirna": 1, "mrna": 2},
        "id_column": True,
    }
    tsv = check(b.OMICS_TSV, "omics_table")
    assert tsv.format == "tsv" and tsv.metadata["layers"] == {"meth": 1, "mrna": 1}


@pytest.mark.parametrize(
    ("data", "name", "fmt"),
    [
        (b.PDF, "report.pdf", "pdf"),
        (b.MARKDOWN, "summary.md", "markdown"),
        (b.MARKDOWN, "summary.txt", "text"),
        (b.HTML, "report.html", "html"),
        (b.HTML, "report.md", "html"),
    ],
)
def test_documents(check, data, name, fmt):
    assert check(data, "document", name=name).format == fmt


def test_a_pdf_named_like_a_ct_is_still_a_pdf(check):
    refused(
        check, b.PDF, "ct_volume", "a ct_volume must be", "this file is a PDF", name="scan.nii.gz"
    )


# --- refused ----------------------------------------------------------------------------------


def test_an_empty_file(check):
    refused(check, b"", "document", "empty")


def test_a_file_over_its_roles_limit(check):
    refused(
        check,
        b.OMICS_CSV,
        "omics_table",
        "over the limit of 10 bytes for an omics_table",
        limits=FileLimits(max_bytes=10),
    )


def test_a_truncated_nii_gz_is_refused_from_its_trailer(check):
    data = b.nifti_gz((32, 32, 32), voxels=os.urandom(32 * 32 * 32 * 2))
    refused(check, data[: len(data) // 2], "ct_volume", "truncated")


def test_a_truncated_nii_gz_with_a_matching_trailer_is_refused_when_inflated(check):
    data = b.nifti_gz((32, 32, 32), voxels=os.urandom(32 * 32 * 32 * 2))
    # The trailer of the whole stream glued onto half of it: only inflating finds the cut.
    refused(check, data[: len(data) // 2] + data[-8:], "ct_volume", "gzip stream")


def test_a_corrupt_gzip_stream(check):
    data = bytearray(b.nifti_gz((32, 32, 32), voxels=os.urandom(32 * 32 * 32 * 2)))
    data[len(data) // 2] ^= 0xFF
    refused(check, bytes(data), "ct_volume", "gzip")


def test_a_header_that_declares_more_than_the_data(check):
    # 64^3 declared, 8^3 present.
    data = b.nifti_header((64, 64, 64)) + bytes(4) + bytes(8 * 8 * 8 * 2)
    refused(check, data, "ct_volume", "truncated", "its header declares")
    refused(check, gzip.compress(data), "ct_volume", "the NIfTI header declares")


def test_a_header_that_declares_less_than_the_data(check):
    data = b.nifti_header((4, 4, 4)) + bytes(4) + bytes(8 * 8 * 8 * 2)
    refused(check, data, "ct_volume", "more than its header declares")


def test_too_many_voxels(check):
    header = b.nifti_header((2048, 2048, 2000))
    refused(check, gzip.compress(header + bytes(4)), "ct_volume", "voxels", "over the limit")


def test_a_dimension_over_the_limit(check):
    refused(check, b.nifti_header((4096, 2, 2)), "ct_volume", "dimension 4096")


def test_a_decoded_bytes_bomb_is_refused_from_its_header(check):
    # A few KB of gzip that declares 512x512x1000 float64 (2 GiB): refused before inflating it.
    header = b.nifti_header((512, 512, 1000), datatype=64, bitpix=64)
    data = gzip.compress(header + bytes(4) + bytes(1024 * 1024))
    assert len(data) < 10_000
    refused(check, data, "ct_volume", "decodes to", "over the limit of 1073741824")


def test_a_bomb_whose_header_lies_is_stopped_at_its_declared_size(check):
    # The header declares 4^3 int16; the stream inflates to 16 MB of zeros.
    data = gzip.compress(b.nifti_header((4, 4, 4)) + bytes(4) + bytes(16 * 1024 * 1024))
    refused(check, data, "ct_volume", "the gzip trailer records")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (b.nifti_header(magic=b"ni1\x00"), ("two-file NIfTI",)),
        (b.nifti_header(magic=b"abcd"), ("magic",)),
        (b.nifti_header((4, 4)), ("expected a 3D volume", "4x4")),
        (b.nifti_header((4, 4, 4, 3)), ("expected a 3D volume", "4x4x4x3")),
        (b.nifti_header((4, 0, 4)), ("dimension 2 is 0",)),
        (b.nifti_header(datatype=32, bitpix=64), ("complex64", "not supported")),
        (b.nifti_header(datatype=999), ("code 999",)),
        (b.nifti_header(pixdim=(1.0, float("nan"), 1.0)), ("voxel spacing",)),
        (b.nifti_header(pixdim=(1.0, 1.0, 50.0)), ("voxel spacing",)),
        (b.nifti_header(vox_offset=100.0), ("inside the header",)),
        (b.nifti_header(vox_offset=352.5), ("voxel offset",)),
        (b.nifti_header(vox_offset=2.0e9), ("voxel offset", "over the limit")),
    ],
)
def test_malformed_nifti_headers(check, header, words):
    refused(check, gzip.compress(header + bytes(4) + bytes(128)), "ct_volume", *words)


def test_a_truncated_header(check):
    refused(check, b.nifti_header()[:200], "ct_volume", "truncated inside the NIfTI header")


def test_a_gzip_that_is_not_nifti(check):
    refused(
        check, gzip.compress(b"hello, world\n" * 100), "ct_volume", "does not hold a NIfTI image"
    )


def test_two_gzip_streams(check):
    data = b.nifti_gz()
    refused(check, data + data, "ct_volume", "follow the end of the gzip stream")


def test_a_zip_bomb(check):
    limits = FileLimits(
        max_bytes=10**8, max_zip_member_bytes=4 * 1024 * 1024, max_decoded_bytes=16 * 1024 * 1024
    )
    # One member that inflates to 8 MB of zeros, from an archive of a few KB.
    bomb = b.zip_of({"IM1.dcm": bytes(8 * 1024 * 1024)})
    assert len(bomb) < 20_000
    refused(check, bomb, "ct_volume", "IM1.dcm", "inflates to 8388608 bytes", limits=limits)
    # Members under that cap, but each over 200 times its stored size.
    dense = b.zip_of({f"IM{i}.dcm": bytes(2 * 1024 * 1024) for i in range(3)})
    refused(check, dense, "ct_volume", "inflates over 200 times", limits=limits)
    # Honest members (stored, not compressed) that add up to more than the decoded cap.
    total = b.zip_of({f"IM{i}.dcm": bytes(3 * 1024 * 1024) for i in range(6)}, zipfile.ZIP_STORED)
    refused(check, total, "ct_volume", "the zip archive inflates to 18874368 bytes", limits=limits)


def test_a_zip_bomb_that_lies_about_its_sizes(check):
    data = bytearray(b.zip_of({"IM1.dcm": b.dicom_slice() + bytes(1024 * 1024)}))
    # Patch the declared uncompressed size (local header at 22, central directory entry at +24)
    # to 200 bytes: zipfile must stop there, and the CRC then fails.
    small = struct.pack("<I", 200)
    data[22:26] = small
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = small
    refused(check, bytes(data), "ct_volume", "IM1.dcm", "cannot be read")


@pytest.mark.parametrize(
    "name", ["../evil.dcm", "/etc/passwd", "a/../../b.dcm", "C:/x.dcm", "..\\x.dcm"]
)
def test_zip_slip_names(check, name):
    refused(check, b.zip_of({name: b.dicom_slice()}), "ct_volume", "not a safe relative name")


def test_an_encrypted_member(check):
    data = bytearray(b.zip_of({"IM1.dcm": b.dicom_slice()}, zipfile.ZIP_STORED))
    data[6] |= 0x1  # the local header's flag bits
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1
    refused(check, bytes(data), "ct_volume", "IM1.dcm", "encrypted")


def test_too_many_members(check):
    data = b.zip_of({f"IM{i}.dcm": b.dicom_slice() for i in range(6)})
    refused(
        check,
        data,
        "ct_volume",
        "6 files, over the limit of 5",
        limits=FileLimits(max_bytes=10**8, max_zip_members=5),
    )
    # Far too many entries are refused from the end record, before zipfile reads the directory.
    many = b.zip_of({f"d{i}/": b"" for i in range(11)})
    refused(
        check,
        many,
        "ct_volume",
        "11 entries",
        limits=FileLimits(max_bytes=10**8, max_zip_members=5),
    )


def test_an_empty_zip(check):
    refused(check, b.zip_of({}), "ct_volume", "holds no files")


def test_a_truncated_zip(check):
    data = b.dicom_zip(5)
    refused(check, data[: len(data) - 40], "ct_volume", "not a readable zip")


def test_a_non_dicom_member_in_a_dicom_zip(check):
    data = b.zip_of({"s/IM1.dcm": b.dicom_slice(), "s/notes.txt": b"not an image" * 20})
    refused(check, data, "ct_volume", "notes.txt", "not a DICOM file")


def test_a_single_dicom_file(check):
    refused(check, b.dicom_slice(), "ct_volume", "single DICOM file", "as a zip")


def test_mask_zips_that_are_not_masks(check):
    refused(check, b.zip_of({"liver.txt": b"x"}), "segmentation", "liver.txt", "<structure>.nii.gz")
    refused(
        check,
        b.zip_of({"liver.nii.gz": b.dicom_slice()}),
        "segmentation",
        "liver.nii.gz",
        "not a NIfTI image",
    )
    twice = b.zip_of({"a/liver.nii.gz": b.nifti_gz(), "b/liver.nii.gz": b.nifti_gz()})
    refused(check, twice, "segmentation", "'liver' appears twice")
    grids = b.zip_of({"liver.nii.gz": b.nifti_gz((4, 4, 4)), "aorta.nii.gz": b.nifti_gz((4, 4, 5))})
    refused(check, grids, "segmentation", "another grid")


def test_a_truncated_mask_in_a_zip(check):
    mask = b.nifti_gz((16, 16, 16), voxels=os.urandom(16 * 16 * 16 * 2))
    refused(
        check,
        b.zip_of({"liver.nii.gz": mask[:-100]}),
        "segmentation",
        "liver.nii.gz",
        "gzip trailer",
    )
    raw = b.nifti((16, 16, 16))
    refused(check, b.zip_of({"liver.nii": raw[:-100]}), "segmentation", "liver.nii", "truncated")


def test_a_non_utf8_csv(check):
    refused(check, b"id,mrna:A\nS1,caf\xe9\n", "omics_table", "not UTF-8", "line 2")


def test_over_long_cells(check):
    refused(
        check,
        b"id,mrna:A\nS1," + b"9" * 300 + b"\n",
        "omics_table",
        "line 2, column 2",
        "300 characters",
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"id,GENE1\nS1,1\n", ("'GENE1'", "<layer>:<feature>")),
        (b"id\nS1\n", ("no '<layer>:<feature>' columns",)),
        (b"id,mrna:A,mrna:A\nS1,1,2\n", ("'mrna:A' appears more than once",)),
        (b"id,sample_id,mrna:A\nS1,S1,2\n", ("more than one id column",)),
        (b"id,mrna:A\n", ("no sample rows",)),
        (b"\n\n", ("empty",)),
        (b"id,mrna:A\nS1,1,2\n", ("line 2 has 3 cells",)),
        (b'id,mrna:A\nS1,"1\n', ("not valid CSV",)),
        (b"id,mrna:A\nS1,\x001\n", ("NUL",)),
    ],
)
def test_malformed_tables(check, data, words):
    refused(check, data, "omics_table", *words)


def test_table_caps(check):
    limits = FileLimits(max_bytes=10**6, max_table_rows=2, max_table_columns=3)
    refused(check, b"id,m:a,m:b,m:c\nS,1,2,3\n", "omics_table", "4 columns", limits=limits)
    refused(
        check, b"id,m:a\nA,1\nB,2\nC,3\n", "omics_table", "more than 2 sample rows", limits=limits
    )


def test_documents_refused(check):
    refused(check, b"%PDF-1.7\n1 0 obj\n", "document", "truncated PDF")
    refused(check, b"%PDF-x\n%%EOF\n", "document", "malformed PDF header")
    refused(check, b"report \xff\xfe", "document", "not UTF-8")
    refused(check, b"MZ\x00\x00\x03\x00", "document", "NUL")
    refused(check, b.zip_of({"a.txt": b"x"}), "document", "a document must be", "a zip archive")


@pytest.mark.parametrize(
    ("data", "role"),
    [
        (b.OMICS_CSV, "ct_volume"),
        (b.nifti_gz(), "omics_table"),
        (b.nifti_gz(), "document"),
        (b.PDF, "segmentation"),
        (b.dicom_zip(), "omics_table"),
    ],
)
def test_wrong_role_and_format(check, data, role):
    refused(check, data, role, f"{role} must be", "this file is")


# --- the example CT (real data, when the shared datasets are present) --------------------------

needs_example = pytest.mark.skipif(
    not EXAMPLE_CT.is_dir(), reason=f"example CT not found at {EXAMPLE_CT}"
)


@needs_example
@pytest.mark.parametrize(
    ("name", "role", "dims"),
    [
        ("example_ct.nii.gz", "ct_volume", [122, 101, 112]),
        ("example_ct_sm.nii.gz", "ct_volume", [122, 101, 30]),
        ("example_seg.nii.gz", "segmentation", [122, 101, 30]),
    ],
)
def test_the_example_ct_and_its_segmentation(name, role, dims):
    path = EXAMPLE_CT / name
    size = path.stat().st_size
    result = check_file(path, role=role, name=name, size=size, limits=LIMITS)
    assert result.format == "nifti-gz" and result.metadata["dims"] == dims


@needs_example
def test_the_example_dicom_series_and_masks_as_zips(check):
    series = sorted((EXAMPLE_CT / "example_ct_dicom").iterdir())
    data = b.zip_of({f"series/{p.name}": p.read_bytes() for p in series})
    assert check(data, "ct_volume").metadata == {"members": len(series)}
    masks = sorted((EXAMPLE_CT / "example_seg_fast").glob("*.nii.gz"))
    data = b.zip_of({p.name: p.read_bytes() for p in masks}, zipfile.ZIP_STORED)
    result = check(data, "segmentation")
    assert result.metadata["members"] == len(masks) and "liver" in result.metadata["structures"]
