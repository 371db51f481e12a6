"""teacheralloc: county teacher allocation (县管校聘) — norms, rotation and redeployment plans with OR-Tools.

Pipeline: load → validate → norms → model → solve → explain → report.
"""

from teacheralloc.domain import ClassGroup, County, School, Teacher
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.read import load_county
from teacheralloc.norms import Norms, compute_norms
from teacheralloc.policy import Policy, load_policy

__all__ = [
    "ClassGroup",
    "County",
    "InputError",
    "Norms",
    "Policy",
    "Problem",
    "School",
    "Teacher",
    "compute_norms",
    "load_county",
    "load_policy",
]
__version__ = "0.1.0"
