"""What every screen needs to know about the run, handed down by the app (screens never
import the app: the arrows run app → screens → core)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from gapmend.core.config import Settings
from gapmend.core.plan.decisions import Decisions, load_decisions, save_decisions
from gapmend.core.plan.delta import Delta
from gapmend.core.plan.model import Plan
from gapmend.core.runbook.steps import Checklist


@dataclass
class WizardContext:
    settings: Settings
    checklist: Checklist
    decisions_path: Path
    reports_dir: Path
    backups_dir: Path
    log_path: Path
    # The gap scan, made once at step 1 and shared by steps 1-4 and the restore screen's
    # check; `r` at step 1 scans again (it takes minutes on a few hundred tables).
    plan: Plan | None = None
    # Friday's delta, kept by that scan: the restore compares only its keys again (`plan.delta`).
    delta: Delta | None = None
    # Set to cancel the running restore (Escape, or quitting): core checks it between chunks.
    cancel: threading.Event = field(default_factory=threading.Event)

    def decisions(self) -> Decisions:
        return load_decisions(self.decisions_path)

    def save_decisions(self, decisions: Decisions) -> None:
        save_decisions(self.decisions_path, decisions)
