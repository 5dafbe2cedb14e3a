"""Synthetic anonymous survey of people who use CSAM (figures P1-P9).

The instrument follows the routing of the published survey: everyone is asked where
they met CSAM (P1) and whether they sought contact with a child (P4); those who did
are asked whether it was online (P5); those who did so online are asked through which
channels (P6, select all that apply); and, from wave 3 on, those who used social media
or messaging apps are asked which platforms (P7, P8). Channel-use questions (P2, P3)
were added at wave 2. Every published percentage is the exact population margin of a
latent multivariate-normal threshold model, so the population truth is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_survey.codebook import Codebook, MultiSelectSet, Variable
from csa_survey.synth._common import (
    check_n,
    equicorrelation,
    latent_threshold_items,
    mcar_missing,
    nullable,
)

__all__ = [
    "DEFAULT_N",
    "SEED",
    "csam_users",
    "csam_users_codebook",
    "csam_users_truth",
]

#: Respondents in the committed dataset (the largest published base, P9).
DEFAULT_N = 1528
#: Seed of the committed dataset (see the datasheet for how it was chosen).
SEED = 6

#: Share of respondents in each survey wave (questions were added at waves 2 and 3).
WAVE_SHARES = {1: 0.24, 2: 0.17, 3: 0.59}

#: Item non-response rates (missing completely at random) per question or set.
NONRESPONSE = {
    "seen_surface_web": 0.0,
    "used_social_media": 0.03,
    "used_messaging_app": 0.03,
    "sought_contact": 0.04,
    "sought_contact_online": 0.05,
    "contact_channel": 0.06,
    "sm_platform": 0.07,
    "msg_app": 0.07,
    "age_first_csam": 0.08,
}

YES_NO = {0: "No", 1: "Yes"}

#: Published targets: variable -> (figure, item label, proportion).
TARGETS: dict[str, tuple[str, str, float]] = {
    "seen_surface_web": ("P1", "Encountered CSAM or links to CSAM on the surface web", 0.77),
    "used_social_media": ("P2", "Actively used social media platforms for CSAM", 0.32),
    "used_messaging_app": ("P3", "Actively used messaging apps for CSAM", 0.29),
    "sought_contact": ("P4", "Sought contact with a child", 0.40),
    "sought_contact_online": ("P5", "Sought contact online", 0.70),
    "contact_social_media": ("P6", "Social media", 0.48),
    "contact_online_game": ("P6", "Online game", 0.41),
    "contact_messaging_app": ("P6", "Messaging app", 0.37),
    "sm_instagram": ("P7", "Instagram", 0.45),
    "sm_facebook": ("P7", "Facebook", 0.30),
    "sm_discord": ("P7", "Discord", 0.26),
    "sm_tiktok": ("P7", "TikTok", 0.25),
    "sm_snapchat": ("P7", "Snapchat", 0.23),
    "sm_twitter": ("P7", "Twitter/X", 0.22),
    "app_telegram": ("P8", "Telegram", 0.45),
    "app_whatsapp": ("P8", "WhatsApp", 0.41),
    "app_signal": ("P8", "Signal", 0.28),
    "app_wickr": ("P8", "Wickr Me", 0.25),
}

#: Latent correlation of the questions asked of everyone (P1, P2, P3, P4).
BLOCK_A = ("seen_surface_web", "used_social_media", "used_messaging_app", "sought_contact")
BLOCK_A_CORR = np.array(
    [
        [1.0, 0.30, 0.30, 0.20],
        [0.30, 1.0, 0.50, 0.30],
        [0.30, 0.50, 1.0, 0.30],
        [0.20, 0.30, 0.30, 1.0],
    ]
)
CONTACT_ITEMS = ("contact_social_media", "contact_online_game", "contact_messaging_app")
SM_ITEMS = ("sm_instagram", "sm_facebook", "sm_discord", "sm_tiktok", "sm_snapchat", "sm_twitter")
APP_ITEMS = ("app_telegram", "app_whatsapp", "app_signal", "app_wickr")
SET_CORR = {"contact_channel": 0.25, "sm_platform": 0.35, "msg_app": 0.35}

LANGUAGES = {1: "English", 2: "Spanish", 3: "Russian", 4: "Portuguese", 5: "German", 6: "Other"}
LANGUAGE_SHARES = [0.45, 0.15, 0.14, 0.09, 0.07, 0.10]
AGE_GROUPS = {1: "18-24", 2: "25-34", 3: "35-44", 4: "45-54", 5: "55 or older"}
AGE_GROUP_SHARES = [0.30, 0.32, 0.19, 0.10, 0.06, 0.03]  # last = prefer not to say
AGE_GROUP_BOUNDS = {1: (18, 24), 2: (25, 34), 3: (35, 44), 4: (45, 54), 5: (55, 75), 9: (18, 75)}
GENDERS = {1: "Man", 2: "Woman", 3: "Non-binary or other"}
GENDER_SHARES = [0.88, 0.05, 0.05, 0.02]  # last = prefer not to say
PREFER_NOT = {9: "Prefer not to say"}


def csam_users_codebook() -> Codebook:
    """Codebook of the synthetic CSAM-user survey.

    Returns
    -------
    Codebook

    Examples
    --------
    >>> cb = csam_users_codebook()
    >>> cb.sets["sm_platform"].items[0], cb["sm_instagram"].label
    ('sm_instagram', 'Instagram')
    """
    v = [
        Variable("respondent_id", "id", "Respondent identifier", dtype="Int32"),
        Variable(
            "wave",
            "design",
            "Survey wave (fieldwork period); questions were added at waves 2 and 3",
            labels={
                1: "Wave 1 (original questionnaire)",
                2: "Wave 2 (channel-use questions added)",
                3: "Wave 3 (platform questions added)",
            },
            dtype="Int8",
        ),
        Variable(
            "language", "single", "Language of the questionnaire", labels=LANGUAGES, dtype="Int8"
        ),
        Variable(
            "age_group",
            "single",
            "What is your age?",
            labels=AGE_GROUPS,
            missing=PREFER_NOT,
            dtype="Int8",
        ),
        Variable(
            "gender",
            "single",
            "What is your gender?",
            labels=GENDERS,
            missing=PREFER_NOT,
            dtype="Int8",
        ),
        Variable(
            "age_first_csam",
            "age",
            "How old were you when you first saw CSAM?",
            min=4,
            max=80,
            dtype="Int16",
        ),
        Variable(
            "seen_surface_web",
            "single",
            "Have you encountered CSAM, or links to CSAM, on the surface web "
            "(the open internet, outside the dark web)?",
            labels=YES_NO,
            base="all respondents",
            dtype="Int8",
        ),
        Variable(
            "used_social_media",
            "single",
            "Have you actively used social media platforms to search for, view or share CSAM?",
            labels=YES_NO,
            wave=2,
            base="all respondents",
            dtype="Int8",
        ),
        Variable(
            "used_messaging_app",
            "single",
            "Have you actively used messaging apps to search for, view or share CSAM?",
            labels=YES_NO,
            wave=2,
            base="all respondents",
            dtype="Int8",
        ),
        Variable(
            "sought_contact",
            "single",
            "Have you sought contact with a child after viewing CSAM?",
            labels=YES_NO,
            base="all respondents",
            dtype="Int8",
        ),
        Variable(
            "sought_contact_online",
            "single",
            "Did you seek contact with the child online?",
            labels=YES_NO,
            universe="sought_contact == 1",
            base="respondents who sought contact with a child",
            dtype="Int8",
        ),
    ]
    item_text = {name: TARGETS[name][1] for name in CONTACT_ITEMS + SM_ITEMS + APP_ITEMS}
    for name in CONTACT_ITEMS:
        v.append(
            Variable(
                name,
                "multi_item",
                f"Contacted a child via: {item_text[name]}",
                set="contact_channel",
                label=item_text[name],
                dtype="Int8",
            )
        )
    for name in SM_ITEMS:
        v.append(
            Variable(
                name,
                "multi_item",
                f"Social media platform used: {item_text[name]}",
                set="sm_platform",
                label=item_text[name],
                dtype="Int8",
            )
        )
    for name in APP_ITEMS:
        v.append(
            Variable(
                name,
                "multi_item",
                f"Messaging app used: {item_text[name]}",
                set="msg_app",
                label=item_text[name],
                dtype="Int8",
            )
        )
    sets = [
        MultiSelectSet(
            "contact_channel",
            "Channel used to contact a child",
            CONTACT_ITEMS,
            "How did you contact the child? Select all that apply.",
            universe="sought_contact_online == 1",
            base="respondents who sought contact with a child online",
        ),
        MultiSelectSet(
            "sm_platform",
            "Social media platform used to contact a child",
            SM_ITEMS,
            "Which social media platforms did you use to contact the child? "
            "Select all that apply.",
            universe="contact_social_media == 1",
            wave=3,
            base="respondents who contacted a child via social media",
        ),
        MultiSelectSet(
            "msg_app",
            "Messaging app used to contact a child",
            APP_ITEMS,
            "Which messaging apps did you use to contact the child? Select all that apply.",
            universe="contact_messaging_app == 1",
            wave=3,
            base="respondents who contacted a child via a messaging app",
        ),
    ]
    return Codebook(
        v,
        sets,
        dataset="csam_users",
        title="Synthetic anonymous survey of people who use CSAM",
        description=(
            "SYNTHETIC data with the structure and routing of an anonymous dark-web survey "
            "of people who use child sexual abuse material (figures P1-P9). Not real "
            "responses. Unweighted, self-selected design."
        ),
        id="respondent_id",
        wave="wave",
    )


def csam_users(n: int = DEFAULT_N, seed: int | None = SEED) -> pd.DataFrame:
    """Generate the synthetic CSAM-user survey.

    Fully vectorised: 10^7 rows take well under a minute.

    Parameters
    ----------
    n : int
        Number of respondents.
    seed : int or None
        Seed of :func:`numpy.random.default_rng` (None = fresh entropy).

    Returns
    -------
    pandas.DataFrame
        One row per respondent; columns as in :func:`csam_users_codebook`
        (nullable ``Int8``/``Int16``/``Int32`` dtypes; ``<NA>`` = not asked or not
        answered).

    Examples
    --------
    >>> df = csam_users(n=1000, seed=1)
    >>> df.shape
    (1000, 24)
    >>> bool(df.loc[df["sought_contact"] != 1, "sought_contact_online"].isna().all())
    True
    """
    n = check_n(n)
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    cols["respondent_id"] = pd.array(np.arange(1, n + 1, dtype=np.int32), dtype="Int32")
    waves = np.array(list(WAVE_SHARES), dtype=np.int8)
    wave = np.sort(rng.choice(waves, size=n, p=list(WAVE_SHARES.values())))
    cols["wave"] = pd.array(wave, dtype="Int8")

    language = rng.choice(np.array(list(LANGUAGES), dtype=np.int8), size=n, p=LANGUAGE_SHARES)
    cols["language"] = pd.array(language, dtype="Int8")
    age_codes = np.array([*AGE_GROUPS, 9], dtype=np.int8)
    age_group = rng.choice(age_codes, size=n, p=AGE_GROUP_SHARES)
    cols["age_group"] = pd.array(age_group, dtype="Int8")
    gender = rng.choice(np.array([*GENDERS, 9], dtype=np.int8), size=n, p=GENDER_SHARES)
    cols["gender"] = pd.array(gender, dtype="Int8")

    # current age uniform within the age group; first sight of CSAM a shifted gamma,
    # never after the current age
    lo = np.zeros(n, dtype=np.int16)
    hi = np.zeros(n, dtype=np.int16)
    for code, (a, b) in AGE_GROUP_BOUNDS.items():
        sel = age_group == code
        lo[sel], hi[sel] = a, b
    current_age = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int16)
    first = 7 + np.floor(rng.gamma(2.2, 4.0, size=n)).astype(np.int16)
    first = np.minimum(first, current_age)
    cols["age_first_csam"] = nullable(
        first, mcar_missing(rng, n, NONRESPONSE["age_first_csam"]), "Int16"
    )

    # questions asked of everyone: one correlated latent block
    block = latent_threshold_items(rng, [TARGETS[c][2] for c in BLOCK_A], BLOCK_A_CORR, n)
    for j, name in enumerate(BLOCK_A):
        miss = mcar_missing(rng, n, NONRESPONSE[name])
        if name in ("used_social_media", "used_messaging_app"):
            miss |= wave < 2
        cols[name] = nullable(block[:, j], miss)
    sought = block[:, 3] == 1
    sought &= ~np.asarray(pd.isna(cols["sought_contact"]))

    # P5: asked of those who sought contact
    online_val = (rng.random(n) < TARGETS["sought_contact_online"][2]).astype(np.int8)
    online_miss = ~sought | mcar_missing(rng, n, NONRESPONSE["sought_contact_online"])
    cols["sought_contact_online"] = nullable(online_val, online_miss)
    online = ~online_miss & (online_val == 1)

    def multi(items: tuple[str, ...], set_name: str, asked: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(asked)
        answered = ~mcar_missing(rng, idx.size, NONRESPONSE[set_name])
        idx = idx[answered]
        values = latent_threshold_items(
            rng,
            [TARGETS[i][2] for i in items],
            equicorrelation(len(items), SET_CORR[set_name]),
            idx.size,
        )
        out = np.zeros((n, len(items)), dtype=np.int8)
        out[idx] = values
        miss = np.ones(n, dtype=bool)
        miss[idx] = False
        for j, item in enumerate(items):
            cols[item] = nullable(out[:, j], miss)
        return out

    channels = multi(CONTACT_ITEMS, "contact_channel", online)
    later = wave >= 3
    multi(SM_ITEMS, "sm_platform", later & (channels[:, 0] == 1))
    multi(APP_ITEMS, "msg_app", later & (channels[:, 2] == 1))
    return pd.DataFrame(cols)


def expected_bases(n: int = DEFAULT_N) -> dict[str, float]:
    """Expected base (respondents in the universe who answered) of each question.

    Examples
    --------
    >>> round(expected_bases()["seen_surface_web"])
    1528
    """
    r = NONRESPONSE
    w2 = WAVE_SHARES[2] + WAVE_SHARES[3]
    w3 = WAVE_SHARES[3]
    p = {k: t[2] for k, t in TARGETS.items()}
    sought = n * (1 - r["sought_contact"]) * p["sought_contact"]
    online = sought * (1 - r["sought_contact_online"]) * p["sought_contact_online"]
    channel = online * (1 - r["contact_channel"])
    return {
        "seen_surface_web": n * (1 - r["seen_surface_web"]),
        "used_social_media": n * w2 * (1 - r["used_social_media"]),
        "used_messaging_app": n * w2 * (1 - r["used_messaging_app"]),
        "sought_contact": n * (1 - r["sought_contact"]),
        "sought_contact_online": sought * (1 - r["sought_contact_online"]),
        "contact_channel": channel,
        "sm_platform": channel * p["contact_social_media"] * w3 * (1 - r["sm_platform"]),
        "msg_app": channel * p["contact_messaging_app"] * w3 * (1 - r["msg_app"]),
    }


def csam_users_truth(n: int = DEFAULT_N) -> pd.DataFrame:
    """Published figures P1-P9 beside the population truth of the generator.

    Parameters
    ----------
    n : int
        Sample size for which the expected bases (P9) are computed.

    Returns
    -------
    pandas.DataFrame
        Columns ``figure``, ``item``, ``variable``, ``published``, ``truth``, ``unit``,
        ``base``, ``note``.

    Examples
    --------
    >>> t = csam_users_truth()
    >>> t.loc[t["item"] == "Instagram", ["published", "truth"]].iloc[0].tolist()
    [0.45, 0.45]
    """
    cb = csam_users_codebook()
    rows = []
    for var, (fig, item, value) in TARGETS.items():
        group = cb.set_of(var)
        rows.append(
            {
                "figure": fig,
                "item": item,
                "variable": var,
                "published": value,
                "truth": value,
                "unit": "proportion",
                "base": cb.base_description(group.name if group else var),
                "note": "exact margin of the latent threshold model",
            }
        )
    bases = expected_bases(n)
    smallest = min(bases, key=bases.get)
    largest = max(bases, key=bases.get)
    rows.append(
        {
            "figure": "P9",
            "item": "smallest item base",
            "variable": smallest,
            "published": 75.0,
            "truth": round(bases[smallest], 1),
            "unit": "respondents",
            "base": cb.base_description(smallest),
            "note": f"expected base for n={n}",
        }
    )
    rows.append(
        {
            "figure": "P9",
            "item": "largest item base",
            "variable": largest,
            "published": 1528.0,
            "truth": round(bases[largest], 1),
            "unit": "respondents",
            "base": cb.base_description(largest),
            "note": f"expected base for n={n}",
        }
    )
    return pd.DataFrame(rows)


def csam_users_estimates(df: pd.DataFrame) -> pd.Series:
    """Sample values of the truth-table items (proportions over each base; P9 bases).

    Point estimates only (unweighted: the survey is self-selected); aligned with the
    rows of :func:`csam_users_truth`.

    Examples
    --------
    >>> est = csam_users_estimates(csam_users(n=5000, seed=1))
    >>> len(est) == len(csam_users_truth())
    True
    """
    cb = csam_users_codebook()
    values = []
    for var in TARGETS:
        group = cb.set_of(var)
        base = cb.base_mask(df, group.name if group else var)
        values.append(float(df.loc[base, var].astype(float).mean()))
    questions = list(expected_bases())
    bases = [cb.base(df, q).n for q in questions]
    values += [float(min(bases)), float(max(bases))]
    return pd.Series(values, name="sample")
