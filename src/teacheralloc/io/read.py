"""Read a county dataset from files into raw tables, before any value is checked.

Accepts a folder of CSV files (UTF-8, UTF-8 with BOM, GB18030/GBK) or one `.xlsx` workbook; file,
sheet and column names may be the English codes or the Chinese labels (see `domain`). Every cell
keeps the spreadsheet row number the user sees, so `validate` can point at it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from teacheralloc.domain import REQUIRED_TABLES, TABLE_LABELS, County, columns
from teacheralloc.errors import Problem

#: First-cell prefix that marks a template's example row; such rows are skipped.
EXAMPLE_MARK = "示例"
#: Excel's error values (a formula that failed): never data, whatever the column.
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                          "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})
#: How far down a sheet the header is looked for: an office's sheet often starts with a title
#: (“××县2026年教师花名册”), a unit or a date line above it.
HEADER_SEARCH_ROWS = 10
#: A row whose first filled cell is one of these is a total (合计行), not a record: skipped, with a warning.
TOTAL_MARKS = frozenset({"合计", "总计", "小计", "共计", "总数", "汇总"})
#: A first cell that is one of these closes the form (以下空白): no record either.
END_MARKS = frozenset({"以下空白", "以下无内容", "以下无数据", "此页无正文", "(以下空白)", "（以下空白）"})
#: A row whose first filled cell starts with one of these is the form's sign-off (落款), not a record.
SIGN_OFF_MARKS = ("填表人", "制表人", "审核人", "负责人", "联系人", "填报单位", "填表单位", "填表日期", "制表日期",
                  "填报日期", "注：", "注:", "说明：", "说明:", "备注：", "备注:", "制表：", "制表:", "填表：", "填表:",
                  "审核：", "审核:", "校长：", "校长:")
_SIGN_OFF_PREFIXES = tuple(unicodedata.normalize("NFKC", mark) for mark in SIGN_OFF_MARKS)  # as cells are compared
_END_MARKS = frozenset(unicodedata.normalize("NFKC", mark) for mark in END_MARKS)
#: Characters no one types on purpose and no cell shows: zero-width spaces and joiners, a byte-order mark
#: where files were pasted together, the DOS end-of-file mark (Ctrl-Z) that `copy a+b` appends.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x1a"))
ENCODINGS = ("utf-8-sig", "gb18030")
#: Chinese characters and full-width forms: what decoded Chinese text holds (and GBK read as UTF-8 not).
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@dataclass
class RawTable:
    """One input table as read: cell values by contract code, with the user's row numbers."""

    name: str
    file: str
    sheet: str = ""
    cells: dict[str, list[Any]] = field(default_factory=dict)  # contract code -> values
    extra: dict[str, list[Any]] = field(default_factory=dict)  # unknown columns, kept as read
    rows: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # contract code -> header as written
    problems: list[Problem] = field(default_factory=list)
    decimal_comma: bool = False  # a semicolon CSV: Excel where the decimal mark is a comma (2,5)
    #: Days from Excel's 1900 epoch to this workbook's: 1,462 for the 1904 date system of older Mac Excel,
    #: whose serial numbers in General cells would otherwise read four years early.
    serial_offset: int = 0

    def problem(self, row: int | None, column: str, value: Any, expected: str, rule: str, **kw: Any) -> Problem:
        label = next((c.label for c in columns(self.name) if c.code == column), "")
        return Problem(
            file=self.file,
            sheet=self.sheet,
            row=row,
            column=column,
            label=label,
            value="" if value is None else str(value),
            expected=expected,
            rule=rule,
            **kw,
        )


def normalize_header(text: Any) -> str:
    """Header text as compared: NFKC (full-width to ASCII), no spaces or required-marks, lower case."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip()
    value = re.sub(r"\s+", "", value).strip("*＊")
    return value.lower()


#: Other headers county rosters use for a column (a tester's list of real ones: 工号, 出生年月, 学校标识码,
#: 主要任教学科, 学段), by table; each names one column only.
HEADER_ALIASES: dict[str, dict[str, str]] = {
    "schools": {"学校标识码": "school_id", "学校编码": "school_id", "学校编号": "school_id", "校名": "name",
                "所在乡镇": "township", "办学类型": "type", "城乡分类": "area", "城乡属性": "area"},
    "classes": {"学校标识码": "school_id", "学校编码": "school_id", "学校编号": "school_id", "班级数": "classes",
                "在校生数": "students", "学生人数": "students"},
    "teachers": {"工号": "teacher_id", "教师工号": "teacher_id", "教职工号": "teacher_id", "教职工编号": "teacher_id",
                 "人员编号": "teacher_id", "出生年月": "birth_date", "学校代码": "school_id", "学校标识码": "school_id",
                 "学校编码": "school_id", "任职学校": "school_id", "所在学校": "school_id", "到校日期": "school_since",
                 "到本校时间": "school_since", "调入本校时间": "school_since", "来校时间": "school_since",
                 "来校年月": "school_since", "到校年月": "school_since", "学段": "stage",
                 "主要任教学科": "subject", "任教学科": "subject"},
}


#: A note under a header as forms write it: （必填）, (选填), 必填项, 如：2015-09-01.
_NOTE = re.compile(r"[（(][^）)]*[）)]|.*(必填|选填|非必填|可不填|填写说明).*|(如|例|例如)[:：].*")


def _notes_row(values: list[Any]) -> bool:
    """The row under the header holds notes on filling the columns in (two or more, nothing else)."""
    cells = [str(v).strip() for v in values if v is not None and str(v).strip()]
    return len(cells) >= 2 and all(_NOTE.fullmatch(cell) for cell in cells)


def _header_aliases(table: str) -> dict[str, str]:
    aliases = {normalize_header(text): code for text, code in HEADER_ALIASES.get(table, {}).items()}
    for col in columns(table):
        aliases[normalize_header(col.code)] = col.code
        aliases[normalize_header(col.label)] = col.code
        aliases[normalize_header(f"{col.label}({col.code})")] = col.code
    return aliases


#: What an office adds to a table's name (教师名单, 学校信息表, 班级情况): the same table.
TABLE_SUFFIXES = ("", "表", "信息", "信息表", "名单", "名册", "花名册", "数据", "情况", "情况表", "基本情况",
                  "基本信息", "一览表", "统计表")


def table_match(text: str) -> tuple[str, bool] | None:
    """The contract table a file stem or sheet name stands for, and whether it names it exactly (`teachers`,
    `教师`) or with an office's suffix (`教师名单`): an exact name wins over a suffixed one."""
    key = normalize_header(text)
    for name, label in TABLE_LABELS.items():
        if key in (name, normalize_header(label)):
            return name, True
        if key in {normalize_header(label + suffix) for suffix in TABLE_SUFFIXES}:
            return name, False
    return None


def table_name_of(text: str) -> str | None:
    """The contract table a file stem or sheet name stands for (`teachers`, `教师`, `教师名单`, ...), if any."""
    match = table_match(text)
    return match[0] if match else None


#: Files and sheets that belong beside the tables (pins, the template's guide and lists): never offered
#: as a table to rename.
AUXILIARY_NAMES = frozenset({"pins", "指定", "填写说明", "选项", "说明", "policy"})


def choose_tables(names: list[str], where: str, kind: str, hidden: frozenset[str] = frozenset()
                  ) -> tuple[dict[str, str], list[str], list[Problem]]:
    """Which file or sheet to read for each table: an exact name, else the one suffixed name; two of a
    kind is an error, a suffixed one beside an exact one is set aside with a warning (a raw roster kept
    beside the cleaned 教师 sheet). A `hidden` sheet is read only where no visible one stands for its
    table (a stale 教师 sheet hidden behind the 教师花名册 in use), with a warning either way. Also the
    names not taken for any table (for the error if one is missing)."""
    exact: dict[str, list[str]] = {}
    suffixed: dict[str, list[str]] = {}
    unknown: list[str] = []
    for text in names:
        match = table_match(Path(text).stem if kind == "CSV 文件" else text)
        if match is None:
            if normalize_header(Path(text).stem) not in AUXILIARY_NAMES:
                unknown.append(text)
            continue
        (exact if match[1] else suffixed).setdefault(match[0], []).append(text)
    chosen: dict[str, str] = {}
    problems: list[Problem] = []
    for name in TABLE_LABELS:
        first, second = exact.get(name, []), suffixed.get(name, [])
        concealed = [text for text in first + second if text in hidden]
        if not concealed:
            continue
        if len(concealed) < len(first) + len(second):  # a visible one stands for this table
            exact[name] = [text for text in first if text not in hidden]
            suffixed[name] = [text for text in second if text not in hidden]
            read = (exact[name] or suffixed[name])[0]
            problems += [Problem(where, None, "", text, f"只读可见的工作表：隐藏的“{text}”未读取（已读“{read}”；"
                                 "若应读隐藏的那张，请取消隐藏并删去另一张）", sheet=text, rule="hidden_sheet",
                                 severity="warning") for text in concealed]
        else:
            problems.append(Problem(where, None, "", concealed[0], f"读取了隐藏的工作表“{concealed[0]}”"
                                    f"（{TABLE_LABELS[name]}表只有这一张；请核对它是否为最新）", sheet=concealed[0],
                                    rule="hidden_sheet", severity="warning"))
    # A sheet set aside may be another table renamed (班级 → 教师名单): the tables still missing are named.
    missing = "、".join(f"“{TABLE_LABELS[n]}”" for n in REQUIRED_TABLES if not exact.get(n) and not suffixed.get(n))
    rename = f"；若它其实是{missing}表，请改用该名称" if missing else ""
    for name in TABLE_LABELS:
        first, second = exact.get(name, []), suffixed.get(name, [])
        candidates = first or second
        if not candidates:
            continue
        chosen[name] = candidates[0]
        sheet = kind == "工作表"
        for other in candidates[1:]:
            problems.append(Problem(
                where if sheet else other, None, "", other,
                f"只有一张“{TABLE_LABELS[name]}”表（已读“{candidates[0]}”）" if sheet
                else f"只有一个{TABLE_LABELS[name]}文件（已读 {candidates[0]}）",
                sheet=other if sheet else "", rule="duplicate_sheet" if sheet else "duplicate_file"))
        for other in (second if first else []):
            problems.append(Problem(where if sheet else other, None, "", other,
                                    f"已有“{candidates[0]}”，此{kind}未读取（名称像{TABLE_LABELS[name]}表{rename}）",
                                    sheet=other if sheet else "", rule="table_set_aside", severity="warning"))
    return chosen, unknown, problems


def _build_table(name: str, file: str, sheet: str, rows: list[tuple[int, list[Any]]], overflow: str = "warning"
                 ) -> RawTable:
    """Turn (row number, cell values) pairs, header first, into a RawTable. Cells past the header's width
    are `overflow`: an error in a CSV (an unquoted comma split a cell: 志愿学校 X005,X026 lost X026), in
    a workbook a warning; cells under a blank header within it (a note, an index column) are one warning."""
    table = RawTable(name=name, file=file, sheet=sheet)
    if not rows:
        table.problems.append(table.problem(None, "", "", "表头行和数据行（文件为空）", "empty_file"))
        return table
    aliases = _header_aliases(name)
    skipped_above = _header_index(rows, aliases)
    if skipped_above:
        title = next((str(v).strip() for _, values in rows[:skipped_above] for v in values
                      if v is not None and str(v).strip()), "")
        table.problems.append(table.problem(
            rows[0][0], "", title, f"表头行（表头在第 {rows[skipped_above][0]} 行，其上 {skipped_above} 行为标题等，"
            "不读取）", "title_rows", severity="warning"))
        rows = rows[skipped_above:]
    header_row, header = rows[0]
    positions: dict[str, int] = {}
    extra_positions: dict[str, int] = {}
    synonyms = {normalize_header(t) for t in HEADER_ALIASES.get(name, {})}
    # A roster's other name for a column (学校代码 in the teachers table) gives way to the column's own
    # header (任教学校) when both are there: read as an extra column, not a duplicate.
    own = {aliases[normalize_header(t)] for t in header if normalize_header(t) in aliases
           and normalize_header(t) not in synonyms}
    for index, text in enumerate(header):
        if text is None or str(text).strip() == "":
            continue
        code = aliases.get(normalize_header(text))
        if code is not None and normalize_header(text) in synonyms and code in own:
            code = None
        if code is None:
            extra_positions[str(text).strip()] = index
        elif code in positions:
            table.problems.append(
                table.problem(header_row, code, text, f"每列只出现一次（“{table.headers[code]}”已表示此列）",
                              "duplicate_column")
            )
        else:
            positions[code] = index
            table.headers[code] = str(text).strip()
    unread = "、".join(f"“{text}”" for text in list(extra_positions)[:6])
    for col in columns(name):
        if col.required and col.code not in positions:
            table.problems.append(
                table.problem(header_row, col.code, "", f"必需列“{col.label}”（{col.code}）"
                              + (f"；表头中未识别的列：{unread}（若其中一列即是，请把表头改为“{col.label}”）"
                                 if unread else ""), "missing_column")
            )
    table.cells = {code: [] for code in positions}
    table.extra = {code: [] for code in extra_positions}
    headed = {index for index, text in enumerate(header) if text is not None and str(text).strip() != ""}
    unheaded: dict[int, int] = {}  # column index under no header → first row with something there
    blank_within = [index for index in range(len(header)) if index not in headed]
    known = {normalize_header(text) for text in header if normalize_header(text) in aliases}
    written = {str(text).strip() for text in header if text is not None and str(text).strip()}
    body = rows[1:]
    # (A row is looked at closely only if it starts with a header's text: normalising every cell of 20,000
    # rows cost ~0.7 s.)
    repeated = {i for i, (_, values) in enumerate(body)
                if len(known) >= 2 and values and isinstance(values[0], str) and values[0].strip() in written
                and len({normalize_header(v) for v in values} & known) * 2 >= len(known)}
    # A sheet pasted together from blocks (one per school), each with its title and header: the header
    # again is no record, nor a lone title cell just above it.
    titles: set[int] = set()
    for i in repeated:
        above = i - 1
        while above >= 0 and _filled(body[above][1]) == 0:
            above -= 1
        if above >= 0 and above not in repeated and _filled(body[above][1]) == 1:
            titles.add(above)
    # A CSV row longer than the others, though only by empty cells (0,5 unquoted in the last-but-one
    # column: the last, usually empty, moves past the header): one more cell than the usual row is a split.
    lengths = Counter(len(values) for _, values in body if _filled(values))
    usual = max(len(header), lengths.most_common(1)[0][0] if lengths else 0)
    first_record = next((i for i, (_, values) in enumerate(body) if _filled(values)), None)
    for position, (number, values) in enumerate(body):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        if position == first_record and _notes_row(values):
            table.problems.append(table.problem(
                number, "", next(str(v).strip() for v in values if v is not None and str(v).strip()),
                "一行一条记录（表头下的填写说明行，如“（必填）”，不是记录，已跳过）", "notes_row", severity="warning"))
            continue
        if position in repeated or position in titles:
            table.problems.append(table.problem(
                number, "", next(str(v).strip() for v in values if v is not None and str(v).strip()),
                "一行一条记录（表中再次出现的表头行及其上的标题行不是记录，已跳过）", "repeated_header",
                severity="warning"))
            continue
        first = values[0] if values else None
        if isinstance(first, str) and first.strip().startswith(EXAMPLE_MARK):
            continue
        marker = summary_row(values)
        if marker:
            table.problems.append(table.problem(number, "", marker, f"一行一条{TABLE_LABELS[name]}记录（合计、小计、"
                                                "落款行不是记录，已跳过）", "summary_row", severity="warning"))
            continue
        table.rows.append(number)
        for code, index in positions.items():
            value = values[index] if index < len(values) else None
            if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
                table.problems.append(table.problem(number, code, value, "数值或文字；这是 Excel 的错误值（公式出错，"
                                                    "如 VLOOKUP 未找到），请改正公式或填入实际内容", "excel_error"))
            table.cells[code].append(value)
        for code, index in extra_positions.items():
            table.extra[code].append(values[index] if index < len(values) else None)
        beyond = [v for v in values[len(header):] if v is not None and str(v).strip() != ""]
        shown, severity = "、".join(str(v) for v in beyond[:3]), "error"
        if not beyond and overflow == "error" and len(values) > usual:
            # Said as a warning: the shifted cells' own errors block the file; a stray trailing comma is harmless.
            beyond, severity = values[usual:], "warning"
            shown = "…" + ",".join("" if v is None else str(v) for v in values[-6:])
        if beyond and overflow == "error":  # an unquoted comma split a cell: the row is longer than the header
            table.problems.append(table.problem(
                number, "", shown,
                f"每行的单元格不多于表头的 {len(header)} 列：本行多出 {len(beyond)} 个（含逗号的内容须加英文双引号，"
                "如 \"X005,X026\"，或改用 ; 、 分隔）", "extra_cells", severity=severity))
        blank_headed = blank_within if overflow == "error" else [*blank_within, *range(len(header), len(values))]
        for index in blank_headed:
            value = values[index] if index < len(values) else None
            if value is not None and str(value).strip() != "":
                unheaded.setdefault(index, number)
    if unheaded:  # a note beside the table, an index column: said once, with where it starts
        from openpyxl.utils import get_column_letter  # here: a CSV county need not import openpyxl (~0.08 s)

        where = "、".join(f"{get_column_letter(i + 1)} 列（第 {row} 行起）" for i, row in sorted(unheaded.items())[:5])
        table.problems.append(table.problem(
            min(unheaded.values()), "", where, "每个有内容的列都有表头：没有表头的列未读取（请核对）",
            "unheaded_cells", severity="warning"))
    return table


def _filled(values: list[Any]) -> int:
    """How many cells of a row hold something."""
    return sum(v is not None and str(v).strip() != "" for v in values)


def _header_index(rows: list[tuple[int, list[Any]]], aliases: dict[str, str]) -> int:
    """Which of the first rows is the header: the one naming the most contract columns (the first such);
    0 when none names any (the first row is then taken, and the missing columns are reported)."""
    best, best_count = 0, 0
    for index, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = len({aliases[key] for key in map(normalize_header, values) if key in aliases})
        if count > best_count:
            best, best_count = index, count
    return best


def summary_row(values: list[Any]) -> str:
    """The first filled cell of a total or sign-off row (合计, 填表人：…), else "". A total written in a
    later column (X001, 小计, 12, 540: a school's subtotal under its grades) makes one too."""
    first = next((v for v in values if v is not None and str(v).strip() != ""), None)
    later = next((v for v in values if isinstance(v, str) and v.strip() in TOTAL_MARKS), None)
    if later is not None:
        return later.strip()
    if not isinstance(first, str):
        return ""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", first))
    # 合计, 合计：200人, 合计（人）, 共计 200 人: a total mark, then nothing or no more letters of a word
    total = next((mark for mark in TOTAL_MARKS if text.startswith(mark)), None)
    if total is not None and (text == total or not re.match(r"[\u4e00-\u9fff]", text[len(total):])
                              or re.fullmatch(r"\d+人?", text[len(total):])):
        return first.strip()
    if text in _END_MARKS or text.startswith(_SIGN_OFF_PREFIXES):
        return first.strip()
    return ""


def decode(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's “Unicode 文本”),
    else GB18030 (a superset of GBK). A UTF-8 file with a few rows in another encoding (pasted in) is
    refused, not read as GB18030: UTF-8 Chinese often decodes as GB18030 too, into other characters."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    unmarked = _utf16_without_bom(data)
    if unmarked:
        return data.decode(unmarked), unmarked
    try:
        text = data.decode(ENCODINGS[0])
        if text.isascii() or _CJK.search(text) or not _decodes_as(data, "gb18030") or \
                not _CJK.search(data.decode("gb18030")):
            return text, ENCODINGS[0]
        # Valid UTF-8 without one Chinese character, but Chinese as GB18030: GBK whose bytes happen to
        # be UTF-8 too (a column of 女, C5 AE, reads as Ů).
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    if _mixed_line(data) is None:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    raise UnicodeDecodeError("gb18030", data, 0, 1, "neither UTF-8 nor GB18030")


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for UTF-16 text with no byte-order mark (some exporters write none: read
    as UTF-8 its header was s c h o o l _ i d), told by its zero bytes: ASCII's high byte, every other byte."""
    head = data[:4096]
    if len(data) < 8 or len(data) % 2:  # UTF-16 is whole pairs of bytes
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    for zeros, others, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros * 10 >= len(head) // 2 * 6 and others * 10 <= len(head) // 2:  # 60 % of pairs, 10 % the other way
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return encoding
    return None


#: What a file named .csv may really be, by its first bytes: said instead of an encoding problem.
_NOT_TEXT = ((b"PK\x03\x04", "Excel 工作簿（.xlsx），只是扩展名为 .csv",
              "CSV 文件：用 Excel 或 WPS 打开后另存为 CSV（逗号分隔）"),
             (b"\xd0\xcf\x11\xe0", "Excel 97-2003 (.xls) 工作簿，只是扩展名为 .csv",
              "CSV 文件：在 Excel 或 WPS 中另存为 CSV 或 .xlsx"))


#: Delimiters a CSV export may use: comma, tab (Excel's “文本文件（制表符分隔）”, “Unicode 文本”) and
#: semicolon (Excel where the decimal mark is a comma).
DELIMITERS = (",", "\t", ";")


def sniff_delimiter(text: str, aliases: dict[str, str] | None = None) -> str:
    """The delimiter that splits a line of the first ones into the most known column names (`aliases`,
    when at least two), else the one used most there (outside quotes); a comma on a tie or none. Counting
    alone took a comma CSV whose first rows list wishes as X005;X026 for a semicolon one."""
    lines = text[:8192].splitlines()[:HEADER_SEARCH_ROWS]
    unquoted = [re.sub(r'"[^"]*"', "", line) for line in lines]
    counts = {d: sum(line.count(d) for line in unquoted) for d in DELIMITERS}
    if aliases:
        named = {d: max((sum(normalize_header(cell) in aliases for cell in cells)
                         for cells in csv.reader(lines, delimiter=d)), default=0) for d in DELIMITERS if counts[d]}
        most = max(named.values(), default=0)
        if most >= 2:
            return max((d for d in named if named[d] == most), key=lambda d: (counts[d], d == ","))
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _utf8_chinese(line: bytes) -> bool:
    """A line in UTF-8 with Chinese in it. GBK text may happen to be valid UTF-8 (女 is C5 AE, 小学 D0 A1
    D1 A7) but then reads as Latin or Cyrillic letters, never as Chinese."""
    try:
        return bool(_CJK.search(line.decode("utf-8")))
    except UnicodeDecodeError:
        return False


def _mixed_line(data: bytes) -> int | None:
    """The first line out of step with the rest of a file that mixes encodings: not in UTF-8 where the
    other non-ASCII lines mostly are (rows pasted in from a GBK file), or in UTF-8 where they mostly are
    not (rows pasted into a GBK file: read as GB18030 they turn into other characters, 新城小学 → 鏂板煄灏忓);
    None when the file is not such a mix."""
    lines = data.split(b"\n")
    foreign = [i for i, line in enumerate(lines) if not line.isascii()]
    utf8 = [_utf8_chinese(lines[i]) for i in foreign]
    if not utf8 or all(utf8) or not any(utf8):
        return None
    odd = sum(utf8) * 2 <= len(utf8)  # the minority's kind: UTF-8 lines in a GBK file, or GBK in UTF-8
    return foreign[utf8.index(odd)] + 1


def _first_undecodable_line(data: bytes) -> int | None:
    """In a file that decodes as a whole in no encoding, the line to look at: one out of step with the
    rest (`_mixed_line`), else the first that decodes in none, unless none decodes at all (not text)."""
    mixed = _mixed_line(data)
    if mixed is not None:
        return mixed
    readable = [any(_decodes_as(line, e) for e in ENCODINGS) for line in data.split(b"\n")]
    return readable.index(False) + 1 if any(readable) and not all(readable) else None


def _decodes_as(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def read_csv_table(path: Path, name: str) -> RawTable:
    """Read one CSV file of table `name`; undecodable or malformed files become problems."""
    if path.is_dir():
        table = RawTable(name=name, file=path.name)
        table.problems.append(table.problem(None, "", "文件夹", f"{path.name} 是 CSV 文件，不是文件夹", "not_csv"))
        return table
    data = path.read_bytes()
    for magic, found, expected in _NOT_TEXT:
        if data.startswith(magic):
            table = RawTable(name=name, file=path.name)
            table.problems.append(table.problem(None, "", found, expected, "not_csv"))
            return table
    try:
        text, _encoding = decode(data)
    except UnicodeDecodeError:
        table = RawTable(name=name, file=path.name)
        if b"\x00" in data:  # in no encoding, with NUL bytes: no text file at all
            table.problems.append(table.problem(None, "", "不是文本文件（含二进制内容）",
                                                "UTF-8、UTF-16 或 GBK/GB18030 编码的 CSV 文件：请确认文件，或在 "
                                                "Excel、WPS 中另存为 CSV", "encoding"))
            return table
        line = _first_undecodable_line(data)
        table.problems.append(table.problem(
            line, "", "", "UTF-8、UTF-16 或 GBK/GB18030 编码的 CSV 文件" + (
                f"：第 {line} 行（按文本行计）与其余各行的编码不同（可能是从别的文件粘贴来的），请用 Excel 或 WPS "
                "打开后整表另存为 CSV" if line else ""), "encoding"))
        return table
    text = text.translate(INVISIBLE)
    delimiter = sniff_delimiter(text, _header_aliases(name))
    # newline="": the csv module splits lines itself (\r\n, \n, and the \r of Excel for Mac), and a
    # line break inside a quoted cell stays in that cell. Rows are numbered by record, as a spreadsheet
    # shows them, not by text line.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Any]]] = []
    swallowed: list[tuple[int, int, int, int]] = []  # (record, cell index, first and last text line)
    line = 0
    try:
        for number, values in enumerate(reader, start=1):
            first, line = line + 1, reader.line_num
            rows.append((number, values))
            if line > first:  # a quoted cell ran over lines: a note, or a stray quote that ate rows
                cell = next((i for i, v in enumerate(values) if ("\n" in v or "\r" in v) and delimiter in v), None)
                if cell is not None:
                    swallowed.append((number, cell, first, line))
    except csv.Error as exc:
        table = RawTable(name=name, file=path.name)
        table.problems.append(table.problem(len(rows) + 1, "", str(exc), "合法的 CSV 格式", "csv_syntax"))
        return table
    table = _build_table(name, path.name, "", rows, overflow="error")
    table.decimal_comma = delimiter == ";"
    if swallowed:
        aliases = _header_aliases(name)
        header = rows[_header_index(rows, aliases)][1]
        for number, cell, first, last in swallowed:
            code = aliases.get(normalize_header(header[cell])) if cell < len(header) else None
            start = rows[number - 1][1][cell].splitlines()[0]
            table.problems.append(table.problem(
                number, code or "", start + "…",
                f"单元格内不换行：此格以英文双引号开头，直到文本第 {last} 行才结束，第 {first + 1}–{last} 行"
                f"（{last - first} 行）都并进了这一格，没有作为记录读取：多半是一个多余的英文双引号（\"），删去它；"
                "内容本身带引号时，把整格用英文双引号括起，格内的引号写两遍", "stray_quote"))
    return table


def read_xlsx_tables(path: Path) -> tuple[dict[str, RawTable], list[Problem], list[str]]:
    """Read the contract sheets of one workbook (sheet names by code or Chinese label); also the sheets
    not taken for any table (for the error if one is missing)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or non-xlsx file
        found, expected = _not_a_workbook(path, exc)
        return {}, [Problem(path.name, None, "", found, expected, rule="xlsx_open")], []
    tables: dict[str, RawTable] = {}
    formulas = _formula_texts(path) if _has_formulas(path) else {}
    stale_results = bool(formulas) and _calculated_on_load(path)
    merges = _vertical_merges(path) if _has_merges(path) else {}
    hidden = frozenset(ws.title for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") != "visible")
    chosen, unknown, problems = choose_tables(workbook.sheetnames, path.name, "工作表", hidden)
    read_as = {title: name for name, title in chosen.items()}
    try:
        for sheet in workbook.worksheets:
            name = read_as.get(sheet.title)
            if name is None:
                continue
            sheet.reset_dimensions()  # read the cells there are, not the size the file states (may be stale)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                rows = [
                    (number, list(values))
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                ]
            _restore_serials(rows, caught)
            uncomputed: list[tuple[int, int, str]] = []  # (row, column index, formula)
            # A writer that leaves the computing to the spreadsheet program (fullCalcOnLoad) may save 0 as
            # every formula's result (xlsxwriter): those zeros are no values either.
            stale = stale_results and all(value in (None, 0) for (_, values), texts
                                          in zip(rows, formulas.get(sheet.title, []), strict=False)
                                          for value, text in zip(values, texts, strict=False)
                                          if isinstance(text, str) and text.startswith("="))
            for (number, values), texts in zip(rows, formulas.get(sheet.title, []), strict=False):
                for i, (value, text) in enumerate(zip(values, texts, strict=False)):
                    if (value is None or stale) and isinstance(text, str) and text.startswith("="):
                        values[i] = text  # a formula never computed: shown as written in the cell's problem
                        uncomputed.append((number, i, text))
            filled = 0
            for column, first, last in merges.get(sheet.title, []):
                if first - 1 < len(rows) and column - 1 < len(rows[first - 1][1]):
                    value = rows[first - 1][1][column - 1]
                    for number in range(first + 1, min(last, len(rows)) + 1):
                        cells = rows[number - 1][1]
                        cells.extend([None] * (column - len(cells)))  # read-only rows end at their last value
                        cells[column - 1] = value
                    filled += 1
            tables[name] = _build_table(name, path.name, sheet.title, rows)
            tables[name].serial_offset = (workbook.epoch.date() - date(1899, 12, 30)).days
            # Formulas without a saved result, named by cell; a total row's (合计, skipped) are not read.
            skipped = {p.row for p in tables[name].problems if p.rule == "summary_row"}
            uncomputed = [cell for cell in uncomputed if cell[0] not in skipped]
            if uncomputed:
                from openpyxl.utils import get_column_letter

                cells = "、".join(f"{get_column_letter(i + 1)}{n} {text}" for n, i, text in uncomputed[:5])
                problems.append(
                    Problem(path.name, uncomputed[0][0] if len(uncomputed) == 1 else None, "",
                            f"{len(uncomputed)} 个公式单元格（{cells}{' 等' if len(uncomputed) > 5 else ''}）",
                            "公式已计算出结果：用 Excel 或 WPS 打开并保存一次（或把公式粘贴为数值）后再导入；"
                            "生成此文件的程序未保存公式的计算结果",
                            sheet=sheet.title, rule="formula_without_value")
                )
            if filled:
                tables[name].problems.append(Problem(
                    path.name, None, "", f"{filled} 个纵向合并单元格",
                    "每行各填一值；已把合并单元格的值填入其覆盖的每一行（请核对）", sheet=sheet.title,
                    rule="merged_cells", severity="warning"))
    finally:
        workbook.close()
    return tables, problems, unknown


_DATE_SERIAL = re.compile(r"Cell ([A-Z]+)(\d+) is marked as a date but the serial value (\S+) is outside")


def _restore_serials(rows: list[tuple[int, list[Any]]], caught: list[warnings.WarningMessage]) -> None:
    """A number in a date-formatted cell that is no Excel date (19881023 typed into a 日期 column):
    openpyxl warns on stderr and reads it as #VALUE!, which the problem then put down to a formula. The
    number as typed goes back in the cell, to be read as any other (an 8-digit 19881023 is a date)."""
    from openpyxl.utils import column_index_from_string

    for warning in caught:
        match = _DATE_SERIAL.search(str(warning.message))
        if match is None:
            continue
        column, number = column_index_from_string(match.group(1)) - 1, int(match.group(2))
        if 0 < number <= len(rows) and column < len(rows[number - 1][1]):
            value = float(match.group(3))
            rows[number - 1][1][column] = int(value) if value.is_integer() else value


#: The first bytes of an OLE2 compound file: an Excel 97-2003 .xls, or an .xlsx with an open password
#: (Office encrypts the whole package into one such file, its stream named EncryptedPackage).
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")


def _not_a_workbook(path: Path, exc: Exception) -> tuple[str, str]:
    """What the file that openpyxl could not open is, and what to do, in the office's words."""
    try:
        with path.open("rb") as file:
            head = file.read(1 << 20)
    except OSError as error:
        return str(error)[:80], "可以读取的 .xlsx 工作簿"
    if not head:
        return "空文件（0 字节）", "含数据的 .xlsx 工作簿：文件为空，请重新导出或复制"
    if head.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in head:
            return "设有打开密码的工作簿", "无密码的 .xlsx 工作簿：在 Excel 或 WPS 中取消“打开密码”后另存"
        return "Excel 97-2003 (.xls) 格式", "在 Excel 或 WPS 中“另存为” .xlsx 工作簿（或导出为 CSV）"
    text = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")) or b"<table" in text:
        return "网页（HTML/XML）文件，只是扩展名为 .xlsx", \
            "真正的 .xlsx 工作簿：某些系统导出的“Excel”其实是网页，请用 Excel 或 WPS 打开后“另存为” .xlsx"
    if not head.startswith(b"PK"):
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if (utf16 or b"\x00" not in head[:4096]) and _decodes(head[:4096]):
            return "文本文件（CSV 或制表符分隔），只是扩展名为 .xlsx", \
                "真正的 .xlsx 工作簿；或把文件改名为 .csv（如 teachers.csv）放进数据文件夹"
        return "不是 .xlsx 工作簿", "可以打开的 .xlsx 工作簿（文件可能已损坏，或是别的格式）"
    return f"工作簿已损坏（{str(exc)[:60]}）", "可以打开的 .xlsx 工作簿：请用 Excel 或 WPS 打开、修复后另存"


def _decodes(sample: bytes) -> bool:
    """Whether `sample` is text `decode` reads, allowing a character cut at its end."""
    for cut in range(4):
        try:
            decode(sample[:len(sample) - cut])
        except UnicodeDecodeError:
            continue
        return True
    return False


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (a quick look at the workbook's XML, no parsing)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            sheets = (archive.read(n) for n in archive.namelist()
                      if n.startswith("xl/worksheets/") and n.endswith(".xml"))
            return any(b"<f>" in xml or b"<f " in xml for xml in sheets)
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _calculated_on_load(path: Path) -> bool:
    """Whether the workbook asks to be recalculated when opened (calcPr fullCalcOnLoad): its writer did
    not compute the formulas, so their saved results are not to be trusted."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            calc = re.search(rb"<calcPr\b[^>]*>", archive.read("xl/workbook.xml"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return calc is not None and re.search(rb'fullCalcOnLoad="(1|true)"', calc.group(0)) is not None


def _has_merges(path: Path) -> bool:
    """Whether any worksheet has merged cells (a quick look at the workbook's XML)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any(b"<mergeCell " in archive.read(n) for n in archive.namelist()
                       if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _vertical_merges(path: Path) -> dict[str, list[tuple[int, int, int]]]:
    """Each sheet's merged cells that span rows, as (column, first row, last row): an office merges
    教育集团 or 任教学校 over the rows it holds for, and only the first row keeps the value, so a reader of
    values sees the others blank (an optional column then silently takes its default). A merge two
    columns wide (J2:K4) holds its value in its first column, which is filled the same way."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=False, data_only=True)
    try:
        return {sheet.title: [(r.min_col, r.min_row, r.max_row) for r in sheet.merged_cells.ranges
                              if r.max_row > r.min_row]
                for sheet in workbook.worksheets}
    finally:
        workbook.close()


def _formula_texts(path: Path) -> dict[str, list[list[Any]]]:
    """Each sheet's cells as written (formulas as text): a program that writes formulas without their
    computed values leaves those cells empty to a reader of values."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()  # as read_xlsx_tables reads them
        with warnings.catch_warnings():  # a number in a date cell: said by read_xlsx_tables, not on stderr
            warnings.simplefilter("ignore")
            return {sheet.title: [list(values) for values in sheet.iter_rows(values_only=True)]
                    for sheet in workbook.worksheets}
    finally:
        workbook.close()


def read_tables(path: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every contract table found at `path` (a folder of CSVs or an .xlsx file)."""
    path = Path(path)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    if not path.exists():
        return {}, [Problem(str(path), None, "", "", "存在的数据文件夹或 .xlsx 文件", rule="not_found")]
    if path.is_file():
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            expected = "含 CSV 文件的文件夹，或 .xlsx 工作簿"
            if path.suffix.lower() in (".xls", ".et", ".ods", ".wps"):
                expected += "：请在 Excel 或 WPS 中把它“另存为” .xlsx"
            elif path.suffix.lower() == ".csv":
                expected += "：CSV 文件请放进一个文件夹（每表一个文件，如 teachers.csv），再给出该文件夹"
            return {}, [Problem(path.name, None, "", path.suffix, expected, rule="format")]
        tables, problems, skipped = read_xlsx_tables(path)
        if any(p.rule == "xlsx_open" for p in problems):
            return tables, problems  # an unopenable workbook is one problem, not also three missing sheets
        where, kind = path.name, "工作表"
    else:
        where, kind = str(path), "CSV 文件"
        files = [file.name for file in sorted(path.iterdir()) if file.suffix.lower() == ".csv"]
        chosen, skipped, problems = choose_tables(files, where, kind)
        for name, file in chosen.items():
            tables[name] = read_csv_table(path / file, name)
    found = f"；未识别、未读取的{kind}：{'、'.join(skipped)}（可改名为上述名称）" if skipped else ""
    for name in REQUIRED_TABLES:
        if name not in tables:
            problems.append(
                Problem(where, None, "", "", f"{name}.csv 或“{TABLE_LABELS[name]}”表（{name} / {TABLE_LABELS[name]}）"
                        + found, rule="missing_table")
            )
    return tables, problems


def load_county(path: Path | str, as_of: date | None = None) -> County:
    """Load and validate a county dataset.

    Parameters
    ----------
    path
        A folder with schools/classes/teachers CSVs (optionally distances), or one .xlsx workbook.
    as_of
        Reference date for ages and years at school; default: the coming 1 September.

    Raises
    ------
    InputError
        With every problem of every file, when anything is invalid.
    """
    from teacheralloc.io.validate import validate_tables

    tables, problems = read_tables(Path(path))
    return validate_tables(tables, problems, as_of=as_of, source=str(path))


__all__ = ["RawTable", "load_county", "read_tables"]
