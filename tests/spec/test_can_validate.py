"""The CAN catalog's rules: each broken catalog is refused with one located issue.

Like tests/spec/test_validate.py, each case copies the real spec, breaks a catalog (or a
requirement of spec/requirements/can.yaml) with a textual edit, and expects exactly one
new issue, at the right file, line and field, saying what was expected and what was found.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import (
    SPEC_DIR,
    Edit,
    Printed,
    apply,
    copy_spec,
    generic,
    line_of,
    printed_issues,
    validate,
)

INT = "can/internal.yaml"
VEH = "can/vehicle.yaml"
REQ = "requirements/can.yaml"


@dataclass(frozen=True)
class Case:
    """Edits, and the one issue they must produce: its file, field (indices as ``[*]``),
    a fragment of its message, and text on its line (searched after ``after``)."""

    name: str
    edits: tuple[Edit, ...]
    file: str
    field: str
    message: str
    line: str
    after: str | None = None


def edit(file: str, old: str, new: str, after: str | None = None) -> Edit:
    return Edit(file, old, new, after)


CASES = [
    # ---- layout: overlaps, per multiplexer value --------------------------------------
    Case("signal_overlaps_counter",
         (edit(VEH, "{signal: close_request, start_bit: 16,",
               "{signal: close_request, start_bit: 10,"),),
         VEH, "frames[*].signals[*].start_bit",
         "expected no bit shared with the alive counter, found bit 10 in both "
         "(frame vcu_state_request)", "{signal: close_request"),
    Case("signals_overlap_each_other",
         (edit(VEH, "{signal: discharge_current_limit_A, start_bit: 31,",
               "{signal: discharge_current_limit_A, start_bit: 30,"),),
         VEH, "frames[*].signals[*].start_bit",
         "expected no bit shared with the signal charge_current_limit_A, found bit 30 in both",
         "{signal: discharge_current_limit_A"),
    Case("multiplexed_signals_overlap_under_a_shared_value",
         (edit(INT, "{signal: balancing_active, start_bit: 12, length: 1, unit: \"1\", "
                    "multiplexed: true,",
               "{signal: balancing_active, start_bit: 24, length: 1, unit: \"1\", "
               "multiplexed: true, multiplexer_values: [0, 3],"),
          edit(INT, "range: {min: 0, max: 65.535}, multiplexed: true,",
               "range: {min: 0, max: 65.535}, multiplexed: true, multiplexer_values: [3, 4],")),
         INT, "frames[*].signals[*].start_bit",
         "expected no bit shared with the signal balancing_active under multiplexer value 3",
         "{signal: cell_monitor_age_s"),
    Case("multiplexer_overlaps_a_signal",
         (edit(INT, "start_bit: 16\n      length: 8\n      count: 72",
               "start_bit: 20\n      length: 8\n      count: 72"),),
         INT, "frames[*].signals[*].start_bit",
         "expected no bit shared with the multiplexer cell_group", "{signal: cell_voltage_V, "
         "element: 0"),
    Case("multiplexer_too_short_for_its_values",
         (edit(INT, "length: 8\n      count: 72", "length: 6\n      count: 72"),),
         INT, "frames[*].multiplexer.count",
         "expected at most 64 values for a 6-bit multiplexer, found count 72", "count: 72"),
    # ---- groups numbered per module -----------------------------------------------------
    Case("groups_split_a_module",
         (edit(INT, "count: 72", "count: 70"),),
         INT, "frames[*].multiplexer.count",
         "expected whole modules of 6 values (⌈16 / 3⌉), found count 70", "count: 70"),
    Case("groups_for_fewer_modules_than_the_commands",
         (edit(INT, "count: 36", "count: 33"),),
         INT, "frames[*].multiplexer.count",
         "expected 12 modules, as frame bmu_balancing_cmd of bus 'internal_can' carries (12 "
         "values of 1 per module), found 11 (count 33)", "count: 33"),
    Case("payload_beyond_dlc",
         (edit(VEH, "id: 0x232\n    dlc: 6", "id: 0x232\n    dlc: 5"),),
         VEH, "frames[*].signals[*].start_bit",
         "expected the signal discharge_current_limit_A inside the 5-byte payload "
         "(bits 0 … 39), found bits up to 45", "{signal: discharge_current_limit_A"),
    # ---- values that do not fit their bits --------------------------------------------
    Case("range_does_not_fit_length",
         (edit(VEH, "{signal: pack_voltage_V, start_bit: 16, length: 15,",
               "{signal: pack_voltage_V, start_bit: 16, length: 13,"),),
         VEH, "frames[*].signals[*].length",
         "expected the range 0 … 1500 V to fit 13 unsigned bits at scale 0.1, offset 0 "
         "(raw 0 … 8191, i.e. 0 … 819.1 V), found raw 0 … 15000", "{signal: pack_voltage_V"),
    Case("negative_values_in_an_unsigned_field",
         (edit(VEH, "length: 16, signed: true, scale: 0.1, unit: A",
               "length: 16, signed: false, scale: 0.1, unit: A"),),
         VEH, "frames[*].signals[*].length",
         "expected the range -2000 … 2000 A to fit 16 unsigned bits", "{signal: pack_current_A"),
    Case("offset_shifts_the_range_out",
         (edit(INT, "scale: 0.1, offset: -50, unit: degC, multiplexed: true}",
               "scale: 0.1, offset: -40, unit: degC, multiplexed: true}"),),
         INT, "frames[*].signals[*].length",
         "expected the range -50 … 150 degC to fit 11 unsigned bits at scale 0.1, offset -40",
         "{signal: cell_temperature_degC, element: 0"),
    Case("enum_wider_than_its_field",
         (edit(VEH, "{signal: safety_state, start_bit: 12, length: 3,",
               "{signal: safety_state, start_bit: 12, length: 2,"),),
         VEH, "frames[*].signals[*].length",
         "expected the range 0 … 4 1 to fit 2 unsigned bits", "{signal: safety_state"),
    Case("range_outside_the_dictionary",
         (edit(VEH, "{signal: pack_soc, start_bit: 16, length: 14, scale: 0.0001, unit: \"1\"}",
               "{signal: pack_soc, start_bit: 16, length: 14, scale: 0.0001, unit: \"1\", "
               "range: {min: 0, max: 1.6}}"),),
         VEH, "frames[*].signals[*].range",
         "expected a range inside the dictionary's 0 … 1 1 of pack_soc, found 0 … 1.6",
         "{signal: pack_soc"),
    Case("scaled_enum",
         (edit(VEH, "{signal: contactor_state, start_bit: 16, length: 3, unit: \"1\"}",
               "{signal: contactor_state, start_bit: 16, length: 3, scale: 2, unit: \"1\"}"),),
         VEH, "frames[*].signals[*].scale",
         "expected scale 1 and offset 0 for contactor_state of type 'enum', found scale 2",
         "{signal: contactor_state"),
    # ---- ids, dictionary, units, nodes ------------------------------------------------
    Case("duplicate_id_on_a_bus",
         (edit(VEH, "id: 0x232\n", "id: 0x230\n"),),
         VEH, "frames[*].id",
         "expected a unique id on bus 'vehicle_can', found 0x230 again (first at "
         "can/vehicle.yaml:", "id: 0x230", "name: bms_current_limits"),
    Case("eleven_bit_id_too_large",
         (edit(VEH, "id: 0x232\n", "id: 0x932\n"),),
         VEH, "frames[*]",
         "id: expected an 11-bit id (<= 0x7FF) for a standard frame, found 0x932",
         "- name: bms_current_limits"),
    Case("classic_frame_longer_than_8_bytes",
         (edit(VEH, "id: 0x232\n    dlc: 6", "id: 0x232\n    dlc: 12"),),
         VEH, "frames[*]",
         "dlc: expected at most 8 bytes for classic CAN, found 12",
         "- name: bms_current_limits"),
    Case("can_fd_where_8_bytes_suffice",
         (edit(VEH, "id: 0x232\n    dlc: 6", "id: 0x232\n    fd: true\n    dlc: 6"),
          edit(VEH, "bit_rate_bps: 500000\n",
               "bit_rate_bps: 500000\n  data_bit_rate_bps: 2000000\n")),
         VEH, "frames[*].fd",
         "CAN FD only where the payload needs it), found fd: true for a payload of 46 bits",
         "fd: true"),
    Case("signal_not_in_the_dictionary",
         (edit(VEH, "{signal: link_voltage_V,", "{signal: dc_link_voltage_V,"),),
         VEH, "frames[*].signals[*].signal",
         "expected a signal of the dictionary, found 'dc_link_voltage_V'",
         "{signal: dc_link_voltage_V"),
    Case("unit_differs_from_the_dictionary",
         (edit(VEH, "{signal: pack_voltage_V, start_bit: 16, length: 15, scale: 0.1, unit: V}",
               "{signal: pack_voltage_V, start_bit: 16, length: 15, scale: 0.1, unit: kV}"),),
         VEH, "frames[*].signals[*].unit",
         "expected the dictionary's unit 'V' of pack_voltage_V, found 'kV'",
         "{signal: pack_voltage_V"),
    Case("array_signal_without_element",
         (edit(INT, "{signal: cell_voltage_V, element: 2, start_bit: 50,",
               "{signal: cell_voltage_V, start_bit: 50,"),),
         INT, "frames[*].signals[*].element",
         "expected the element of the array cell_voltage_V (over 'cell'), found none",
         "{signal: cell_voltage_V, start_bit: 50"),
    Case("element_beyond_its_group",
         (edit(INT, "{signal: cell_voltage_V, element: 2, start_bit: 50,",
               "{signal: cell_voltage_V, element: 3, start_bit: 50,"),),
         INT, "frames[*].signals[*].element",
         "expected an element below elements_per_value 3, found 3",
         "{signal: cell_voltage_V, element: 3"),
    Case("sender_not_on_the_bus",
         (edit(VEH, "senders: [bmu]\n    receivers: [vcu, charger, gateway]",
               "senders: [cmu]\n    receivers: [vcu, charger, gateway]", after="name: bms_state"),),
         VEH, "frames[*].senders[*]",
         "expected a node on bus 'vehicle_can' (bmu, gateway, vcu, charger), found 'cmu'",
         "senders: [cmu]"),
    Case("receiver_not_on_the_bus",
         (edit(INT, "receivers: [cmu]", "receivers: [cmu, vcu]"),),
         INT, "frames[*].receivers[*]",
         "expected a node on bus 'internal_can' (bmu, cmu), found 'vcu'",
         "receivers: [cmu, vcu]"),
    Case("catalog_of_an_unknown_bus",
         (edit(INT, "  id: internal_can\n", "  id: private_can\n"),),
         INT, "bus.id",
         "expected a bus of architecture.yaml's links (internal_can, vehicle_can), found "
         "'private_can'", "id: private_can"),
    Case("two_catalogs_for_one_bus",
         (edit(INT, "  id: internal_can\n", "  id: vehicle_can\n"),),
         VEH, "bus.id", "expected one catalog per bus, found bus 'vehicle_can' again",
         "id: vehicle_can"),
    # ---- timing and bus load ----------------------------------------------------------
    Case("bus_overloaded",
         (edit(INT, "bit_rate_bps: 500000", "bit_rate_bps: 125000"),),
         INT, "bus.bit_rate_bps",
         "expected a worst-case bus load of at most 70 % at 125000 bit/s (frames of 47 + "
         "8·DLC bits plus worst-case stuffing), found 118.0 % (largest: cmu_cell_voltages "
         "77.8 %", "bit_rate_bps: 125000"),
    Case("cycle_too_fast_for_the_bus",
         (edit(INT, "cycle: {period_ms: 100, tolerance_ms: 5}",
               "cycle: {period_ms: 25, tolerance_ms: 5}", after="name: cmu_cell_voltages"),),
         INT, "bus.bit_rate_bps", "found 87.8 % (largest: cmu_cell_voltages 77.8 %",
         "bit_rate_bps: 500000"),
    Case("timeout_within_the_period",
         (edit(VEH, "time_ms: 1000", "time_ms: 105"),),
         VEH, "frames[*].timeout.time_ms",
         "expected a reception timeout above the latest expected frame (period + tolerance "
         "= 105 ms), found 105 ms", "time_ms: 105"),
    Case("tolerance_not_below_the_period",
         (edit(VEH, "cycle: {period_ms: 100, tolerance_ms: 5}",
               "cycle: {period_ms: 100, tolerance_ms: 100}"),),
         VEH, "frames[*].cycle",
         "expected a tolerance below the period 100.0 ms, found 100.0 ms",
         "cycle: {period_ms: 100, tolerance_ms: 100}"),
    # ---- end-to-end protection --------------------------------------------------------
    Case("profile_1_crc_off_a_byte",
         (edit(VEH, "crc: {start_bit: 0, length: 8,", "crc: {start_bit: 1, length: 8,"),
          edit(VEH, "counter: {start_bit: 8, length: 4}", "counter: {start_bit: 12, length: 4}"),
          edit(VEH, "{signal: close_request, start_bit: 16,",
               "{signal: close_request, start_bit: 9,")),
         VEH, "frames[*].e2e.crc.start_bit",
         "expected a little-endian CRC on a byte boundary (profile 1), found start bit 1",
         "crc: {start_bit: 1"),
    Case("profile_1_counter_not_4_bits",
         (edit(VEH, "counter: {start_bit: 8, length: 4}", "counter: {start_bit: 8, length: 3}"),),
         VEH, "frames[*].e2e.counter.length",
         "expected a 4-bit counter (profile 1), found 3 bits",
         "counter: {start_bit: 8, length: 3}"),
    Case("profile_1_without_data_id",
         (edit(VEH, "      data_id: 0x0210\n", ""),),
         VEH, "frames[*].e2e.profile",
         "expected a data_id for AUTOSAR E2E profile 1, found none", "profile: autosar_e2e_p1"),
    Case("crc_of_16_bits",
         (edit(VEH, "extended: true\n    dlc: 6", "extended: true\n    dlc: 7"),
          edit(VEH, "crc: {start_bit: 0, length: 8,", "crc: {start_bit: 0, length: 16,",
               after="name: bms_charger_request"),
          edit(VEH, "counter: {start_bit: 8, length: 4}", "counter: {start_bit: 16, length: 4}",
               after="name: bms_charger_request"),
          edit(VEH, "{signal: charge_phase, start_bit: 12,",
               "{signal: charge_phase, start_bit: 20,", after="name: bms_charger_request"),
          edit(VEH, "{signal: charge_voltage_request_V, start_bit: 16,",
               "{signal: charge_voltage_request_V, start_bit: 23,"),
          edit(VEH, "{signal: charge_current_request_A, start_bit: 31,",
               "{signal: charge_current_request_A, start_bit: 38,")),
         VEH, "frames[*].e2e.crc.length", "expected 8 bits for crc8_sae_j1850_zero, found 16",
         "crc: {start_bit: 0, length: 16"),
    # ---- the CAN profiles' node --------------------------------------------------------
    Case("profile_node_not_in_the_topology",
         (edit("profiles.yaml", "    node: cmu\n", "    node: slave\n"),),
         "profiles.yaml", "profiles[*].node",
         "expected a node of architecture.yaml's topology (bmu, cmu, gateway), found 'slave'",
         "node: slave"),
    # ---- draft requirements -----------------------------------------------------------
    Case("draft_requirement_in_a_profile",
         (edit(REQ, "    profiles: [cmu_can, bms_can]\n",
               "    profiles: [cmu_can, bms_can]\n    status: draft\n"),),
         REQ, "requirements[*]",
         "expected no profiles for a draft requirement (a module could claim it before any "
         "test case judges it), found cmu_can, bms_can", "- id: OBSA-CAN-001"),
    Case("active_requirement_without_profile",
         (edit(REQ, "    profiles: [cmu_can, bms_can]\n", ""),),
         REQ, "requirements[*]",
         "expected at least one profile for an active requirement, found none",
         "- id: OBSA-CAN-001"),
]


@pytest.fixture(scope="module")
def baseline() -> Counter[Printed]:
    """Issues of the unedited spec (none, when it is valid): the cases count new ones."""
    code, out, _ = validate(SPEC_DIR)
    return Counter(printed_issues(out))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_catalog_is_rejected(case: Case, tmp_path: Path,
                                    baseline: Counter[Printed]) -> None:
    root = copy_spec(tmp_path)
    for e in case.edits:
        apply(root, e)
    code, out, err = validate(root)
    assert code == 1, out + err
    assert err == "" and "Traceback" not in out
    new = list((Counter(printed_issues(out)) - baseline).elements())
    assert len(new) == 1, "expected exactly one new issue, found:\n" + "\n".join(map(str, new))
    (issue,) = new
    assert issue.file == case.file
    assert generic(issue.field) == case.field
    assert case.message in issue.message, issue.message
    assert "expected" in issue.message and "found" in issue.message
    assert issue.line == line_of(root, case.file, case.line, case.after)


def test_disjoint_multiplexer_values_may_share_bits(tmp_path: Path) -> None:
    """Two signals on the same bits under different multiplexer values do not overlap."""
    root = copy_spec(tmp_path)
    apply(root, edit(INT, "{signal: balancing_active, start_bit: 12, length: 1, unit: \"1\", "
                          "multiplexed: true,",
                     "{signal: balancing_active, start_bit: 24, length: 1, unit: \"1\", "
                     "multiplexed: true, multiplexer_values: [0, 1],"))
    apply(root, edit(INT, "range: {min: 0, max: 65.535}, multiplexed: true,",
                     "range: {min: 0, max: 65.535}, multiplexed: true, "
                     "multiplexer_values: [2, 3],"))
    code, out, err = validate(root)
    assert code == 0, out + err


def test_the_real_catalogs_are_valid() -> None:
    code, out, err = validate(SPEC_DIR)
    assert code == 0, out + err
    assert "can/internal.yaml" not in out and "can/vehicle.yaml" not in out
