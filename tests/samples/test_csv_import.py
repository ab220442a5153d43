from pathlib import Path

import pytest

from isofind.samples.csv_import import (
    ImportErrors,
    MappingError,
    ParsedImport,
    ParsedIsotopeValue,
    available_profiles,
    parse_csv,
)
from isofind.samples.csv_import.reading import decode, read_rows, sniff_delimiter
from isofind.samples.csv_import.values import parse_date, parse_number

DATA = Path(__file__).parent / "data"
GLOBALID = Path(__file__).parents[2].parent / "shared" / "data" / "globalid" / "GlobaLID.csv"


def parse_text(text: str, **options: object) -> ParsedImport:
    return parse_csv(text.encode("utf-8"), **options)  # type: ignore[arg-type]


def errors_of(raw: bytes, **options: object) -> list[dict[str, object]]:
    with pytest.raises(ImportErrors) as raised:
        parse_csv(raw, **options)  # type: ignore[arg-type]
    return list(raised.value.errors)  # type: ignore[arg-type]


def pb(ratio: str, value: float, line: int, **rest: object) -> ParsedIsotopeValue:
    return ParsedIsotopeValue(element="Pb", value=value, line=line, ratio=ratio, **rest)  # type: ignore[arg-type]


# --- The real test files -------------------------------------------------------------------

def test_latin1_french_file_with_semicolons_decimal_commas_and_a_misspelt_header() -> None:
    parsed = parse_csv((DATA / "french_latin1.csv").read_bytes())

    assert (parsed.encoding, parsed.delimiter) == ("cp1252", ";")
    assert parsed.recognised_columns["Lattitude"] == "latitude"
    assert parsed.recognised_columns["Nom de l'échantillon"] == "name"
    assert parsed.ignored_columns == []
    loire, pontpean = parsed.samples
    assert loire.name == "Sédiment Loire 1"
    assert loire.lines == [2, 3, 5]
    assert loire.fields == {
        "name": "Sédiment Loire 1",
        "material_type": "sediment",
        "sector": "Bassin de la Loire",
        "collection_date": "2023-03-14",
        "classification": "daughter",
        "latitude": 47.3941,
        "longitude": 0.6848,
        "project": "Loire amont 2023",  # the later row updates the project
        "notes": "prélevé en rive gauche, près du pont",  # an empty later cell keeps it
    }
    # Line 5 repeats line 2's value (other spelling): it is not added twice.
    assert loire.isotope_values == [
        pb("206Pb/204Pb", 18.412, 2, uncertainty=0.0011, uncertainty_type_declared="2SD",
           standard="NIST SRM 981"),
        pb("207Pb/204Pb", 15.648, 3, uncertainty=0.0012, uncertainty_type_declared="1SD",
           standard="NIST SRM 981"),
    ]
    assert pontpean.fields == {
        "name": "Minerai Pontpéan",
        "material_type": "ore",
        "sector": "Bretagne",
        "collection_date": "2022-06-02",
        "classification": "source",
        "latitude": 48.0075,
        "longitude": -1.7011,
        "project": "Mines bretonnes",
        "notes": "galène massive à 3 m",
    }
    assert pontpean.isotope_values == [pb("206Pb/204Pb", 18.291, 4, standard="NIST SRM 981")]


def test_utf8_bom_file_with_ratio_and_delta_columns() -> None:
    parsed = parse_csv((DATA / "bom_utf8.csv").read_bytes())

    assert (parsed.encoding, parsed.delimiter) == ("utf-8-sig", ",")
    assert parsed.recognised_columns == {
        "Sample name": "name",  # no BOM glued to the first header
        "Material type": "material_type",
        "Sector": "sector",
        "Collection date": "collection_date",
        "Latitude": "latitude",
        "Longitude": "longitude",
        "Classification": "classification",
        "87Sr/86Sr": "87Sr/86Sr",
        "87Sr/86Sr 2σ": "87Sr/86Sr uncertainty (2σ)",
        "δ65Cu": "δ65Cu",
        "2s_δ65Cu": "δ65Cu uncertainty (2σ)",
        "Scale": "scale",
    }
    wine, axe = parsed.samples
    assert wine.fields == {
        "name": "Wine Bordeaux 12", "material_type": "wine", "sector": "Gironde",
        "collection_date": "2021-09-30", "classification": "daughter", "latitude": 44.8378,
        "longitude": -0.5792,
    }
    assert wine.isotope_values == [ParsedIsotopeValue(
        element="Sr", value=0.708912, line=2, ratio="87Sr/86Sr", uncertainty=0.000012,
        uncertainty_type_declared="2σ",
    )]
    assert axe.fields["material_type"] == "bronze"
    assert axe.isotope_values == [ParsedIsotopeValue(
        element="Cu", value=0.21, line=3, delta="δ65Cu", scale="NIST SRM 976",
        uncertainty=0.05, uncertainty_type_declared="2σ",
    )]


def test_wide_file() -> None:
    parsed = parse_csv((DATA / "wide.csv").read_bytes())

    assert parsed.recognised_columns["isotope_ratio_2"] == "isotope_ratio_2"
    galena, soil = parsed.samples
    context = {"instrument": "Neptune Plus", "session_date": "2024-02-15"}
    assert galena.fields == {"name": "Galena A1", "material_type": "galena",
                             "classification": "source"}
    assert galena.isotope_values == [
        pb("206Pb/204Pb", 18.368, 2, uncertainty=0.002, uncertainty_type_declared="2SE",
           standard="NIST SRM 981", **context),
        ParsedIsotopeValue(element="Sr", value=0.71025, line=2, ratio="87Sr/86Sr",
                           uncertainty=0.00002, uncertainty_type_declared="2SE",
                           standard="NIST SRM 987", **context),
    ]
    # 1SD declared for the row: 0.004 is stored as 0.008 (2σ); the empty group 2 is skipped.
    assert soil.isotope_values == [
        pb("208Pb/204Pb", 38.51, 3, uncertainty=0.008, uncertainty_type_declared="1SD",
           standard="NIST SRM 981", instrument="Nu Plasma II", session_date="2024-02-15"),
    ]


def test_wide_groups_declare_their_own_uncertainty_type_and_delta_scale() -> None:
    text = (
        "name,isotope_ratio_1,ratio_value_1,uncertainty_1,uncertainty_type_1,scale_1,"
        "uncertainty_type,method\n"
        "Cu-9,d65Cu,-0.42,0.03,1 s.d.,NIST SRM 976,2SE,MC-ICP-MS bracketing\n"
    )
    assert parse_text(text).samples[0].isotope_values == [ParsedIsotopeValue(
        element="Cu", value=-0.42, line=2, delta="δ65Cu", scale="NIST SRM 976",
        uncertainty=0.06, uncertainty_type_declared="1SD", method="MC-ICP-MS bracketing",
    )]


def test_bad_row_wide_fields_are_reported() -> None:
    text = (
        "name,isotope_ratio,ratio_value,uncertainty,uncertainty_type,session_date\n"
        "A,206Pb/204Pb,18.1,0.01,3 sigma,2024-02-30\n"
    )
    assert errors_of(text.encode()) == [
        {"line": 2, "column": "uncertainty_type", "value": "3 sigma",
         "message": "unknown uncertainty type: use 1σ, 1SD, 1SE, 2σ, 2SD or 2SE"},
        {"line": 2, "column": "session_date", "value": "2024-02-30",
         "message": "not a date: write YYYY-MM-DD (or DD/MM/YYYY)"},
    ]


def test_ratio_named_columns_in_a_tab_separated_file() -> None:
    parsed = parse_csv((DATA / "ratio_columns.csv").read_bytes())

    assert parsed.delimiter == "\t"
    assert parsed.recognised_columns == {
        "Sample": "name",
        "206Pb/204Pb": "206Pb/204Pb",
        "2s_206Pb/204Pb": "206Pb/204Pb uncertainty (2σ)",
        "Pb207/Pb204": "207Pb/204Pb",
        "Pb207/Pb204 (1SD)": "207Pb/204Pb uncertainty (1SD)",
        "208pb/204pb": "208Pb/204Pb",
        "Standard": "standard",
        "Notes": "notes",
    }
    ore17, ore18 = parsed.samples
    standard = {"standard": "NIST SRM 981"}
    assert (ore17.fields, ore17.lines) == ({"name": "Ore-17", "notes": "first session"}, [2, 3])
    assert ore17.isotope_values == [
        pb("206Pb/204Pb", 18.3012, 2, uncertainty=0.0009, uncertainty_type_declared="2σ",
           **standard),
        pb("207Pb/204Pb", 15.6611, 2, uncertainty=0.0008, uncertainty_type_declared="1SD",
           **standard),
        pb("208Pb/204Pb", 38.441, 2, **standard),
    ]
    assert ore18.isotope_values == [
        pb("206Pb/204Pb", 17.995, 4, **standard),
        pb("207Pb/204Pb", 15.601, 4, uncertainty=0.001, uncertainty_type_declared="1SD",
           **standard),
        pb("208Pb/204Pb", 37.9012, 4, **standard),
    ]


def test_file_with_one_bad_row_reports_each_problem_of_that_row() -> None:
    assert errors_of((DATA / "one_bad_row.csv").read_bytes()) == [
        {"line": 3, "column": "latitude", "value": "123,0",
         "message": "latitude must be between -90 and 90"},
        {"line": 3, "column": "collection_date", "value": "31/02/2023",
         "message": "not a date: write YYYY-MM-DD (or DD/MM/YYYY)"},
    ]


# --- GlobaLID ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def globalid() -> ParsedImport:
    return parse_csv(GLOBALID.read_bytes(), profile="globalid")


def test_globalid_gives_one_uniquely_named_source_sample_per_row(globalid: ParsedImport) -> None:
    samples = globalid.samples

    assert len(samples) == 4623
    assert len({sample.name for sample in samples}) == 4623
    assert all(len(sample.lines) == 1 for sample in samples)
    assert {sample.fields["classification"] for sample in samples} == {"source"}
    assert sum(len(sample.isotope_values) for sample in samples) == 36968
    assert sum(value.uncertainty is not None
               for sample in samples for value in sample.isotope_values) == 2327


def test_globalid_first_row(globalid: ParsedImport) -> None:
    first = globalid.samples[0]

    assert first.fields == {
        "name": "284, La Helvecia, 1982",
        "material_type": "galena",
        "sector": "La Helvecia, Argentina",  # no mining area: the mining site stands in
        "collection_location": "La Helvecia, La Rioja, Argentina",
        "description": "strata bound",
        "classification": "source",
        "latitude": -29.5338888888889,
        "longitude": -68.8222222222222,
        "reference": "Brodtkorb, M. K., and Brodtkorb, A., 1982, Datos isotópicos de plomo de "
                     "la mineralización de la Mina La Helvecia, prov. de La Rioja, Revista de la "
                     "Asociación Geológica Argentina, 37(3), 358–61.",
    }
    assert [(value.ratio, value.value) for value in first.isotope_values] == [
        ("206Pb/204Pb", 18.084), ("207Pb/204Pb", 15.585), ("208Pb/204Pb", 37.975),
        ("206Pb/207Pb", 1.16034648700674), ("208Pb/207Pb", 2.43663779274944),
        ("204Pb/206Pb", 0.055297500552975), ("207Pb/206Pb", 0.861811546118116),
        ("208Pb/206Pb", 2.09992258349923),
    ]
    assert {(value.element, value.instrument) for value in first.isotope_values} == {("Pb", "TIMS")}


def test_globalid_row_with_2s_uncertainties_and_doi(globalid: ParsedImport) -> None:
    rajkovici = next(s for s in globalid.samples if s.name == "RJK-1, Rajkovići, 2023")

    assert rajkovici.lines == [112]
    assert rajkovici.fields["sector"] == (
        "Šuplja Stijena/Ljubišnja, Bosnia and Herzegovina "
        "[Bosna i Hercegovina / Босна и Херцеговина]"
    )
    assert rajkovici.fields["doi"] == "10.1016/j.jas.2023.105791"
    assert [(v.ratio, v.value, v.uncertainty, v.uncertainty_type_declared)
            for v in rajkovici.isotope_values] == [
        ("206Pb/204Pb", 18.2981, 0.000832, "2σ"),
        ("207Pb/204Pb", 15.6513, 0.00067, "2σ"),
        ("208Pb/204Pb", 38.446, 0.001826, "2σ"),
        ("206Pb/207Pb", 1.16911205939089, None, None),
        ("208Pb/207Pb", 2.45640937174548, None, None),
        ("204Pb/206Pb", 0.054650482837016, None, None),
        ("207Pb/206Pb", 0.85535, 1.042e-05, "2σ"),
        ("208Pb/206Pb", 2.10108, 3.48e-05, "2σ"),
    ]


def test_globalid_uncertainty_ranges_are_skipped_with_a_warning(globalid: ParsedImport) -> None:
    torome = next(s for s in globalid.samples if s.name == "BCL 134, Torome, 1977")

    assert torome.lines == [128]
    assert [(v.ratio, v.value, v.uncertainty) for v in torome.isotope_values[:3]] == [
        ("206Pb/204Pb", 14.62, None), ("207Pb/204Pb", 15.18, None), ("208Pb/204Pb", 34.53, None),
    ]
    message = "not a number: value kept without this uncertainty"
    assert [w for w in globalid.warnings if w["line"] == 128] == [
        {"line": 128, "column": "2s_206Pb/204Pb", "value": ".1 - .2", "message": message},
        {"line": 128, "column": "2s_207Pb/204Pb", "value": ".1 - .2", "message": message},
        {"line": 128, "column": "2s_208Pb/204Pb", "value": ".1 - .3", "message": message},
    ]
    assert len(globalid.warnings) == 438


def test_globalid_rows_sharing_a_name_are_kept_apart_by_line(globalid: ParsedImport) -> None:
    by_name = {sample.name: sample for sample in globalid.samples}
    first = by_name["2, Chiprovtsi, 1999 (line 141)"]
    second = by_name["2, Chiprovtsi, 1999 (line 142)"]

    assert first.isotope_values[0].value == 18.262
    assert second.isotope_values[0].value == 18.29
    assert "2, Chiprovtsi, 1999" not in by_name


def test_globalid_columns(globalid: ParsedImport) -> None:
    recognised = globalid.recognised_columns

    assert recognised["Mining site"] == "name, sector, collection_location"
    assert recognised["2s_208Pb/206Pb"] == "208Pb/206Pb uncertainty (2σ)"
    assert recognised["Instrument used"] == "instrument"
    assert "Model_Age_SK75" in globalid.ignored_columns
    assert "Additional references" in globalid.ignored_columns
    assert set(recognised).isdisjoint(globalid.ignored_columns)
    assert len(recognised) + len(globalid.ignored_columns) == 51


def test_profiles_shipped() -> None:
    assert available_profiles() == ["globalid"]


def globalid_head() -> str:
    """The real GlobaLID header and first row."""
    return "".join(GLOBALID.read_text("utf-8").splitlines(keepends=True)[:2])


def test_profile_names_ignore_case() -> None:
    parsed = parse_text(globalid_head(), profile="GlobaLID")

    assert parsed.samples[0].name == "284, La Helvecia, 1982"


def test_mapping_given_as_json_text_overrides_the_profile() -> None:
    parsed = parse_text(globalid_head(), profile="globalid",
                        mapping='{"classification": {"value": "fille"}, "name": "Sample number"}')

    assert parsed.samples[0].name == "284"
    assert parsed.samples[0].fields["classification"] == "daughter"


def test_profile_applied_to_a_file_without_its_columns() -> None:
    errors = errors_of(b"name\nA\n", profile="globalid")

    assert errors[0] == {
        "line": 1, "column": "Sample number", "value": "",
        "message": "the mapping reads name from column 'Sample number', which the file does "
                   "not have",
    }
    assert len(errors) == 21  # every column each field of the profile names


# --- Encodings and delimiters --------------------------------------------------------------

def test_cp1252_characters_outside_latin1() -> None:
    parsed = parse_csv("name;notes\nA;cœur d’ouvrage – 5 €\n".encode("cp1252"))

    assert parsed.encoding == "cp1252"
    assert parsed.samples[0].fields["notes"] == "cœur d’ouvrage – 5 €"


def test_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    assert decode(b"name\n\x81\xe9\n").text == "name\n\x81é\n"
    assert decode(b"name\n\x81\xe9\n").encoding == "latin-1"


def test_utf8_is_preferred_to_cp1252() -> None:
    assert decode("é".encode()).text == "é"
    assert decode("é".encode()).encoding == "utf-8"


def test_utf16_with_bom() -> None:
    parsed = parse_csv("name\tnotes\nA\tδ65Cu lourd\n".encode("utf-16"))

    assert (parsed.encoding, parsed.delimiter) == ("utf-16", "\t")
    assert parsed.samples[0].fields["notes"] == "δ65Cu lourd"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("name;latitude\nA;45,5\nB;46,1\n", ";"),
        ("name,latitude\nA,45.5\nB,\"46,1\"\n", ","),
        ("name\tlatitude\nA\t45,5\n", "\t"),
        ('name;notes\nA;"x, y, z"\nB;"u, v"\n', ";"),
        ("name\nA\n", ","),
    ],
)
def test_delimiter_sniffing(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_quoted_cells_spanning_lines_keep_file_line_numbers() -> None:
    rows = list(read_rows('name,notes\nA,"two\nlines"\nB,x\n', ","))

    assert [(row.line, row.cells) for row in rows] == [
        (1, ["name", "notes"]), (2, ["A", "two\nlines"]), (4, ["B", "x"]),
    ]


def test_errors_after_a_multiline_cell_name_the_right_line() -> None:
    assert errors_of(b'name,notes,latitude\nA,"two\nlines",1\nB,x,91\n') == [
        {"line": 4, "column": "latitude", "value": "91",
         "message": "latitude must be between -90 and 90"},
    ]


def test_a_row_the_csv_reader_cannot_read_is_an_error_naming_its_line() -> None:
    raw = b"name,notes\nA,x\nB," + b"x" * 200_000 + b"\nC,y\n"

    assert errors_of(raw) == [
        {"line": 3, "column": "", "value": "",
         "message": "unreadable CSV: field larger than field limit (131072)"},
    ]


# --- Values --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "number"),
    [("18.412", 18.412), ("18,412", 18.412), ("-0,5", -0.5), ("\u22121,5", -1.5),
     ("1 234,5", 1234.5), ("1\u00a0234,5", 1234.5), ("1,2e-5", 1.2e-05), (",5", 0.5),
     ("1.234,5", None), ("1,234.5", None), ("1 2", None), ("nan", None), ("inf", None),
     ("1_000", None), ("1e999", None), ("12 mg", None), (" 1.5", None), ("1.5 ", None),
     ("1.5\n", None), ("Infinity", None), ("-nan", None), ("0x10", None), ("+1.5E3", 1500.0),
     ("5.", 5.0), (".5", 0.5), ("-1e-3", -0.001), ("1,5e999", None), ("", None)],
)
def test_numbers(text: str, number: float | None) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2023-03-14", "2023-03-14"), ("14/03/2023", "2023-03-14"), ("4/3/2023", "2023-03-04"),
     ("14.03.2023", "2023-03-14"), ("2023-03-14T10:30:00", "2023-03-14"),
     ("2023-03-14 00:00:00", "2023-03-14"), ("2023/3/4", "2023-03-04"), ("31/02/2023", None),
     ("2023-13-01", None), ("03/14/2023", None), ("March 2023", None), ("2023", None)],
)
def test_dates(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_every_bad_cell_of_every_row_is_reported() -> None:
    text = (
        "name,latitude,longitude,altitude,collection_date,doi,classification,206Pb/204Pb\n"
        "A,-91,181,abc,2023-13-01,nope,maybe,-1\n"
        "B,90,-180,\"1 234,5\",2023-01-02T10:00:00,https://doi.org/10.1/x,Source,18.1\n"
        ",1,2,,,,,18\n"
    )
    assert errors_of(text.encode()) == [
        {"line": 2, "column": "latitude", "value": "-91",
         "message": "latitude must be between -90 and 90"},
        {"line": 2, "column": "longitude", "value": "181",
         "message": "longitude must be between -180 and 180"},
        {"line": 2, "column": "altitude", "value": "abc", "message": "not a number"},
        {"line": 2, "column": "collection_date", "value": "2023-13-01",
         "message": "not a date: write YYYY-MM-DD (or DD/MM/YYYY)"},
        {"line": 2, "column": "doi", "value": "nope",
         "message": "not a DOI: expected 10.xxxx/… (optionally with https://doi.org/)"},
        {"line": 2, "column": "classification", "value": "maybe",
         "message": "classification must be source or daughter (source or fille)"},
        {"line": 2, "column": "206Pb/204Pb", "value": "-1",
         "message": "an isotope ratio must be positive"},
        {"line": 4, "column": "name", "value": "", "message": "the sample name is missing"},
    ]


def test_valid_values_of_every_field_type() -> None:
    text = (
        "name,latitude,longitude,altitude,collection_date,doi,classification,collector,project\n"
        "B,90,-180,\"1 234,5\",2023-01-02T10:00:00,https://doi.org/10.1/x,Source,J. Dupont,P1\n"
    )
    assert parse_text(text).samples[0].fields == {
        "name": "B", "latitude": 90.0, "longitude": -180.0, "altitude": 1234.5,
        "collection_date": "2023-01-02", "doi": "10.1/x", "classification": "source",
        "collector": "J. Dupont", "project": "P1",
    }


def test_negative_and_unreadable_uncertainties_are_errors_without_a_lenient_profile() -> None:
    text = "name,206Pb/204Pb,2s_206Pb/204Pb\nA,18.1,-0.001\nB,18.2,.1 - .2\nC,,0.001\n"

    assert errors_of(text.encode()) == [
        {"line": 2, "column": "2s_206Pb/204Pb", "value": "-0.001",
         "message": "negative uncertainty"},
        {"line": 3, "column": "2s_206Pb/204Pb", "value": ".1 - .2", "message": "not a number"},
        {"line": 4, "column": "2s_206Pb/204Pb", "value": "0.001",
         "message": "an uncertainty without its value"},
    ]


def test_uncertainty_column_without_its_value_column_is_ignored() -> None:
    parsed = parse_text("name,2s_87Sr/86Sr\nA,0.00001\n")

    assert parsed.ignored_columns == ["2s_87Sr/86Sr"]
    assert parsed.samples[0].isotope_values == []


# --- Elements ------------------------------------------------------------------------------

def test_unknown_elements_are_refused_in_cells() -> None:
    text = (
        "name,element,isotope ratio,value\n"
        "A,Xx,206Pb/204Pb,18.1\n"
        "B,Sr,206Pb/204Pb,18.1\n"
        "C,Pb,206Xx/204Xx,1.2\n"
        "D,,,3\n"
    )
    assert errors_of(text.encode()) == [
        {"line": 2, "column": "element", "value": "Xx",
         "message": "unknown element: neither predefined nor a custom element"},
        {"line": 3, "column": "element", "value": "Sr",
         "message": "element Sr does not match 206Pb/204Pb"},
        {"line": 4, "column": "isotope ratio", "value": "206Xx/204Xx",
         "message": "not an isotope ratio or delta of a known element (e.g. 206Pb/204Pb, δ65Cu)"},
        {"line": 5, "column": "isotope ratio", "value": "",
         "message": "a value without its isotope ratio"},
    ]


def test_unknown_elements_are_refused_in_headers() -> None:
    assert errors_of(b"name,206Xx/204Xx\nA,1.2\n") == [
        {"line": 1, "column": "206Xx/204Xx", "value": "206Xx/204Xx",
         "message": "a ratio or delta of an unknown element or isotope: declare it as a custom "
                    "element"},
    ]


def test_custom_elements_are_accepted() -> None:
    text = "name,element,ratio,value,206Xx/204Xx\nA,xx,207Xx/204Xx,1.5,1.2\n"
    parsed = parse_text(text, custom_elements=frozenset({"Xx"}))

    assert parsed.samples[0].isotope_values == [
        ParsedIsotopeValue(element="Xx", value=1.2, line=2, ratio="206Xx/204Xx"),
        ParsedIsotopeValue(element="Xx", value=1.5, line=2, ratio="207Xx/204Xx"),
    ]


def test_element_names_in_french_and_english_in_cells() -> None:
    text = "nom;élément;rapport;valeur\nA;plomb;206/204Pb;18,1\nA;strontium;Sr87/Sr86;0,71\n"

    assert [(v.element, v.ratio, v.value) for v in parse_text(text).samples[0].isotope_values] == [
        ("Pb", "206Pb/204Pb", 18.1), ("Sr", "87Sr/86Sr", 0.71),
    ]


# --- Headers -------------------------------------------------------------------------------

def test_headers_in_any_case_with_or_without_accents_and_typos() -> None:
    text = "ECHANTILLON;Materiau;SECTEUR;date de prelevement;Longitde;Commentaire\nA;sol;S;;1;x\n"
    parsed = parse_text(text)

    assert parsed.recognised_columns == {
        "ECHANTILLON": "name", "Materiau": "material_type", "SECTEUR": "sector",
        "date de prelevement": "collection_date", "Longitde": "longitude",
        "Commentaire": "notes",
    }
    assert parsed.samples[0].fields == {
        "name": "A", "material_type": "soil", "sector": "S", "longitude": 1.0, "notes": "x",
    }


def test_short_headers_must_be_exact_and_unknown_ones_are_ignored() -> None:
    # `dat` and `lot` are one or two edits from `date` and `lat`: too short to be guessed.
    parsed = parse_text("name,dat,lot,Model_Age_SK75\nA,1,2,3\n")

    assert parsed.recognised_columns == {"name": "name"}
    assert parsed.ignored_columns == ["dat", "lot", "Model_Age_SK75"]


def test_an_exact_header_wins_over_a_misspelt_one() -> None:
    parsed = parse_text("name,Lattitude,Latitude\nA,10,20\n")

    assert parsed.recognised_columns == {"name": "name", "Latitude": "latitude"}
    assert parsed.ignored_columns == ["Lattitude"]
    assert parsed.samples[0].fields["latitude"] == 20.0


def test_no_name_column() -> None:
    assert errors_of(b"latitude;longitude\n45;3\n") == [
        {"line": 1, "column": "name", "value": "",
         "message": "no column gives the sample name (name, nom, échantillon …) and the mapping "
                    "names none"},
    ]


def test_empty_file_and_header_only() -> None:
    assert errors_of(b"") == [
        {"line": 1, "column": "", "value": "", "message": "the file is empty"},
    ]
    assert errors_of(b"name,latitude\n\n") == [
        {"line": 1, "column": "", "value": "", "message": "the file has a header but no data rows"},
    ]


def test_rows_longer_than_the_header_are_errors_shorter_ones_are_padded() -> None:
    text = "name,notes,latitude\nA,x,1,extra\nB,y,2,,\nC\n"

    assert errors_of(text.encode()) == [
        {"line": 2, "column": "(after column 3)", "value": "extra",
         "message": "the row has 4 cells but the header has 3 columns"},
    ]
    assert [s.fields for s in parse_text("name,notes,latitude\nB,y,2,,\nC\n\n").samples] == [
        {"name": "B", "notes": "y", "latitude": 2.0}, {"name": "C"},
    ]


# --- Mapping -------------------------------------------------------------------------------

def test_mapping_joins_columns_takes_the_first_non_empty_and_sets_constants() -> None:
    text = "Code,Zone,Site,Pays,Lat N,Pb64\nA,,Mine,France,45,18.1\n"
    mapping = {
        "name": "Code",
        "sector": [{"first_of": ["Zone", "Site"]}, "Pays"],
        "classification": {"value": "fille"},
        "latitude": "Lat N",
        "206Pb/204Pb": "Pb64",
        "standard": {"value": "NIST SRM 981"},
    }
    parsed = parse_text(text, mapping=mapping)

    assert parsed.samples[0].fields == {
        "name": "A", "sector": "Mine, France", "classification": "daughter", "latitude": 45.0,
    }
    assert parsed.samples[0].isotope_values == [
        pb("206Pb/204Pb", 18.1, 2, standard="NIST SRM 981"),
    ]
    assert parsed.recognised_columns == {
        "Code": "name", "Zone": "sector", "Site": "sector", "Pays": "sector",
        "Lat N": "latitude", "Pb64": "206Pb/204Pb",
    }


def test_mapping_naming_missing_columns() -> None:
    mapping = {"name": "Nope", "sector": ["X", {"first_of": ["Y", "Code"]}]}

    assert errors_of(b"Code\nA\n", mapping=mapping) == [
        {"line": 1, "column": "Nope", "value": "",
         "message": "the mapping reads name from column 'Nope', which the file does not have"},
        {"line": 1, "column": "X", "value": "",
         "message": "the mapping reads sector from column 'X', which the file does not have"},
        {"line": 1, "column": "Y", "value": "",
         "message": "the mapping reads sector from column 'Y', which the file does not have"},
    ]


def test_mapped_columns_are_found_without_case_or_accents() -> None:
    parsed = parse_text("CODE ÉCHANTILLON\nA\n", mapping={"name": "code echantillon"})

    assert parsed.samples[0].name == "A"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ([], "mapping must be a JSON object from field names to columns"),
        ('{"name": ', "mapping is not valid JSON: Expecting value: line 1 column 10 (char 9)"),
        ({"name": 3}, "mapping 'name': expected a column name, a list of column names, "
                      '{"first_of": [...]} or {"value": ...}'),
        ({"name": []}, "mapping 'name': the list of columns is empty"),
        ({"name": {"first_of": []}},
         "mapping 'name': first_of needs a non-empty list of column names"),
        ({"name": {"value": True}}, "mapping 'name': a constant must be a string or a number"),
        ({"colour": "Code"},
         "mapping key 'colour' is not a field (name, material_type, sector, collection_date, "
         "collection_location, description, classification, latitude, longitude, project, "
         "altitude, collector, notes, reference, doi, method, instrument, session_date), a "
         "wide-layout column such as isotope_ratio_1, nor a ratio or delta such as 206Pb/204Pb"),
    ],
)
def test_malformed_mapping(mapping: object, message: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_csv(b"Code\nA\n", mapping=mapping)  # type: ignore[arg-type]

    assert str(raised.value) == message


@pytest.mark.parametrize("profile", ["nope", "../globalid", "globalid.json"])
def test_unknown_profile(profile: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_csv(b"Code\nA\n", profile=profile)

    assert str(raised.value) == f"unknown profile {profile!r}; available profiles: globalid"
