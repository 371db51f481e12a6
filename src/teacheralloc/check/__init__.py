"""Independent plan check (方案复核): re-verify every hard rule on a written plan, recompute its figures.

`check_plan(county, policy, plan_dir)` reads `plan.csv`, `schools.csv` and `summary.json` of a plan
folder (the output contract, shared/spec/data-contract.md) and checks them against the county data and
the policy alone. It imports nothing from `teacheralloc.model`: every rule is re-derived here from the
data and the policy numbers, so a bug in the optimizer cannot hide in the check.

Rules (code, number in the brief, what is checked):

1  `well_formed`      every teacher exists and moves at most once, from their current school to another
                      existing school; move_type is rotation / support / redeploy / new_hire (new_hire:
                      placeholder id NEW-0001…, empty from_school; with a scenario's holding schools,
                      one of its hires); every row has a Chinese reason.
2  `movable`          exempt teachers (leave statuses, service obligation, near retirement) move only if
                      they volunteered; a teacher pinned must_stay never moves.
3  `rotation`         a rotated teacher is rotation-eligible (years at school, active, not exempt) and
                      goes to a school of lower level (urban → town → rural, weak half a level lower).
4  `support`          support postings from non-weak schools of `support.from_areas` to rural or weak
                      schools, of teachers who need rural service for 高级职称 or volunteered without wishes.
5  `stage`            same stage, or junior → primary for redeploy when `plan.junior_to_primary`
                      (a new hire stays in the stage it was recruited for); the destination school
                      teaches that stage.
6  `subject`          the subject taught is the main or another qualified subject (the mapped subject
                      for junior → primary).
7  `wishes`, `pins`   volunteers with wishes go only to a wished school (wish_rank = its position);
                      must_move / to_school / not_to_school pins are honoured.
8  `establishment`    no transfer (rotation, redeploy; new hires too) into a school at or above its
                      核定编制, none that takes a school above it.
                      A school with no 核定编制 (`plan.arrivals_within_shortage`): in each stage, transfers
                      in − departures on duty never take it above ⌈its norm⌉ (or above what it had).
                      With `support.max_above_norm` k: support postings into a stage ≤ what it lacks
                      of ⌈its norm⌉ + k (pinned postings not counted).
9  `max_leaving`      no school loses more than max(1, ⌊share × its teachers⌋) teachers; with
                      `rotation.leaving_cap_by_stage`, no stage of a school with several either.
10 `redeploy_surplus` involuntary redeployment out of a school and stage ≤ its surplus + transfers in
                      on duty, new hires included (a teacher on leave fills no post); to another stage
                      (junior → primary), a volunteer's move included, ≤ its surplus alone.
11 `quota`            the rotation and backbone quotas, or a shortfall reason in summary.json (a warning);
                      summary.json's quota figures equal the recomputed ones.
12 `max_km`           with `plan.max_km`, every involuntary move is within it.
13 `figures`          schools.csv (students, classes, required, teachers and gaps before and after),
                      summary.json's move counts and headcount and balance tiers (PE/arts teachers by
                      their own main subject), plan.csv's distances, and each applicant's outcome
                      (summary.json `applicants`, applicants.csv) equal the recomputed ones.

The stage of rotation and support rows is checked once, under rule 5. Rows that cannot be read (unknown
teacher or school, bad move type, a teacher's second row) are reported under rule 1 and left out of the
other rules and of the recomputed figures. Warnings, not violations: a quota shortfall that summary.json
explains, and a plan made for another reference date or under other rule settings (`context`).
A missing or unreadable plan folder or file raises `InputError` naming the file.
"""

from teacheralloc.check.plan_check import check_plan
from teacheralloc.check.report import RULES, CheckReport, Violation

__all__ = ["RULES", "CheckReport", "Violation", "check_plan"]
