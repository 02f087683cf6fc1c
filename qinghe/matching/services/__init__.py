"""Writes of matching, one module per topic:

- ``weights``: scoring weights from settings (MATCHING_WEIGHTS), checked at start-up;
- ``tags``: occupation tags of postings (classifier, staff corrections);
- ``majors``: majors to occupations (build, staff edits);
- ``preferences``: a student's matching preferences;
- ``recompute``: recommendations both ways (full recompute, incremental hooks), fairness;
- ``invitations``: an enterprise's invitation and the student's answer;
- ``gaps``: the skills-gap export.

Facts come from ``fetch`` (bulk), scores from ``index`` / ``scoring`` (pure); these modules
only decide what to keep and write it. Import from the topic module; the names below are
re-exported only for the views (``services.<name>``)."""

from .gaps import gap_export
from .invitations import invitation_respond, invitation_send
from .majors import major_occupation_add, major_occupation_move, major_occupation_remove
from .preferences import matching_profile_update
from .tags import posting_occupation_correct, posting_occupation_remove, postings_classify
from .weights import weights_from_settings

__all__ = [
    "gap_export",
    "invitation_respond",
    "invitation_send",
    "major_occupation_add",
    "major_occupation_move",
    "major_occupation_remove",
    "matching_profile_update",
    "posting_occupation_correct",
    "posting_occupation_remove",
    "postings_classify",
    "weights_from_settings",
]
