"""The evidence branch: files GitHub cannot hold inline, committed through the contents API.

Binary evidence (and text too long for comments) is committed to a branch (``bridge-evidence`` by
default) of the tracker repository or of ``evidence_repository``, at the content-addressed path
``<sha[:2]>/<sha256>/<name>``. The same bytes are therefore stored once however many tickets or
runs upload them: a second PUT of an existing path answers 422 ("sha" wasn't supplied), and the
file already there is linked. The branch is created from the default branch on first use.
Files are read back (``fetch_evidence``) through the same API and checked against their hash;
the contents API returns a file over 1 MB without its bytes (``encoding: "none"``), so such a file
is then read as a git blob (up to 100 MB) by the blob sha that answer gives.

A file that replaces its earlier versions (the report ``report --attach`` keeps on a defect) has
a fixed path instead, ``reports/<owner>/<repo>/<number>/<name>``, and is overwritten there: a PUT
carrying the blob sha of the file it replaces, which the caller remembers from the last PUT (a
stale or unknown one costs one GET for the current sha). The link to it always shows the latest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef
from tracker_bridge.errors import TrackerRefused
from tracker_bridge.trackers.github.client import GitHubClient

_B64_CHUNK = 3 * 256 * 1024
"""Bytes encoded at a time: a multiple of 3, so the pieces join into one valid base64 text."""


def _json_body(file: EvidenceFile, directory: Path, message: str, branch: str) -> Path:
    """The contents API's JSON body for ``file``, base64 encoded in chunks into a private file
    in ``directory`` (memory stays flat; the caller removes it)."""
    fd, name = tempfile.mkstemp(dir=directory, suffix=".json")
    with os.fdopen(fd, "wb") as out:
        out.write(b'{"message": ' + json.dumps(message).encode())
        out.write(b', "branch": ' + json.dumps(branch).encode() + b', "content": "')
        for chunk in file.chunks(_B64_CHUNK):
            out.write(base64.b64encode(chunk))
        out.write(b'"}')
    return Path(name)


def content_path(name: str, sha256: str) -> str:
    """Content-addressed path in the evidence branch."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "evidence"
    return f"{sha256[:2]}/{sha256}/{safe[:100]}"


def report_path(repository: str, number: int, name: str) -> str:
    """The fixed path of a replaceable file of issue ``number`` of ``repository``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "report"
    return f"reports/{repository}/{number}/{safe[:100]}"


class EvidenceBranch:
    """Content-addressed evidence files in one branch of one repository."""

    def __init__(
        self,
        client: GitHubClient,
        *,
        repository: str,
        branch: str,
        html_root: Callable[[], str],
    ) -> None:
        """``html_root`` gives the web root (``https://github.com``) for links built without an
        answer from GitHub; it is only called when needed."""
        self._client = client
        self.repository = repository
        self.branch = branch
        self._html_root = html_root
        self._repo_path = f"/repos/{repository}"
        self._branch_ready = False

    def store(self, file: EvidenceFile) -> str:
        """Commit ``file`` once per content (creating the branch if needed); its web URL."""
        path = content_path(file.name, file.sha256)
        url = f"{self._repo_path}/contents/{quote(path)}"
        message = f"tracker-bridge evidence {file.name} ({file.sha256[:12]})"
        payload: dict[str, str] | None = None
        body_file: Path | None = None
        if file.path is None:
            payload = {
                "message": message,
                "content": base64.b64encode(file.data).decode("ascii"),
                "branch": self.branch,
            }
        else:
            body_file = _json_body(file, file.path.parent, message, self.branch)
        try:
            return self._put(file, url, path, payload, body_file)
        finally:
            if body_file is not None:
                body_file.unlink(missing_ok=True)

    def _put(
        self,
        file: EvidenceFile,
        url: str,
        path: str,
        payload: dict[str, str] | None,
        body_file: Path | None,
    ) -> str:
        for _ in range(2):
            response = self._client.send(
                "PUT",
                url,
                what=f"storing {file.name}",
                body=payload,
                body_file=body_file,
                allow=(404, 409, 422),
            )
            if response.status == 200:
                return str(response.data["content"]["html_url"])
            message = str((response.data or {}).get("message", "")).lower()
            if response.status == 422 and "sha" in message:
                return self._blob_url(path)  # already stored: same path means same bytes
            if "branch" in message and not self._branch_ready:
                self._create_branch()
                continue
            raise TrackerRefused(
                f"GitHub refused to store {file.name} in {self.repository}: {message}",
                status=response.status,
                hint="Check [tracker] evidence_repository and the token's Contents write access.",
            )
        raise TrackerRefused(f"could not create the evidence branch {self.branch}.")

    def replace(self, path: str, file: EvidenceFile, blob: str | None) -> tuple[str, str]:
        """Commit ``file`` at ``path`` over whatever is there: its web URL and blob sha.

        ``blob`` is the blob sha of the file at ``path`` as last written (None: none known).
        One PUT; when GitHub answers that the sha is missing (422) or stale (409), one GET reads
        the current one and the PUT is sent again.
        """
        url = f"{self._repo_path}/contents/{quote(path)}"
        payload: dict[str, Any] = {
            "message": f"tracker-bridge {file.name} ({file.sha256[:12]})",
            "content": base64.b64encode(file.data).decode("ascii"),
            "branch": self.branch,
        }
        looked_up = False
        for _ in range(4):
            body = {**payload, "sha": blob} if blob else payload
            response = self._client.send(
                "PUT", url, what=f"storing {file.name}", body=body, allow=(404, 409, 422)
            )
            if response.status == 200:
                content = response.data["content"]
                return str(content["html_url"]), str(content["sha"])
            message = str((response.data or {}).get("message", "")).lower()
            if response.status == 404 and "branch" in message and not self._branch_ready:
                self._create_branch()
                continue
            if response.status in (409, 422) and not looked_up:
                blob, looked_up = self._current_blob(path), True
                continue
            raise TrackerRefused(
                f"GitHub refused to store {file.name} in {self.repository}: {message}",
                status=response.status,
                hint="Check [tracker] evidence_repository and the token's Contents write access.",
            )
        raise TrackerRefused(f"could not store {file.name} in the branch {self.branch}.")

    def _current_blob(self, path: str) -> str | None:
        response = self._client.send(
            "GET",
            f"{self._repo_path}/contents/{quote(path)}",
            what=f"reading {path}",
            params={"ref": self.branch},
            allow=(404,),
        )
        data = response.data if response.status == 200 and isinstance(response.data, dict) else {}
        return str(data["sha"]) if data.get("sha") else None

    def read(self, ref: EvidenceRef) -> bytes | None:
        """The stored bytes of ``ref`` when the branch holds them unaltered, else None."""
        response = self._client.send(
            "GET",
            f"{self._repo_path}/contents/{quote(self._path_of(ref))}",
            what=f"reading evidence {ref.name}",
            params={"ref": self.branch},
            allow=(404,),
        )
        data = response.data if response.status == 200 and isinstance(response.data, dict) else {}
        if data.get("encoding") == "none" and data.get("sha"):  # over 1 MB: not inline
            data = self._client.send(
                "GET",
                f"{self._repo_path}/git/blobs/{quote(str(data['sha']))}",
                what=f"reading evidence {ref.name}",
                allow=(404,),
            ).data
            data = data if isinstance(data, dict) else {}
        if data.get("encoding") == "base64" and data.get("content"):
            content = base64.b64decode(str(data["content"]))
            if hashlib.sha256(content).hexdigest() == ref.sha256:
                return content
        return None

    def url_for(self, ref: EvidenceRef) -> str:
        """The web URL ``ref`` gets once committed (built locally, no request)."""
        return self._blob_url(content_path(ref.name, ref.sha256))

    def url_at(self, path: str) -> str:
        """The web URL of the file at ``path`` in the branch (built locally, no request)."""
        return self._blob_url(path)

    def holds(self, ref: EvidenceRef) -> bool:
        """Whether ``ref`` links into this branch (committed rather than shown in a comment)."""
        return f"/{self.repository}/blob/{quote(self.branch)}/" in ref.url

    def _path_of(self, ref: EvidenceRef) -> str:
        """Where ``ref`` lives in the branch: the path its link names, else its content path."""
        marker = f"/{self.repository}/blob/{quote(self.branch)}/"
        if marker in ref.url:
            return unquote(ref.url.split(marker, 1)[1].split("?", 1)[0].split("#", 1)[0])
        return content_path(ref.name, ref.sha256)

    def _create_branch(self) -> None:
        info = self._client.send("GET", self._repo_path, what=f"reading {self.repository}").data
        head = self._client.send(
            "GET",
            f"{self._repo_path}/git/ref/heads/{quote(info['default_branch'])}",
            what="reading the default branch",
        ).data
        self._client.send(
            "POST",
            f"{self._repo_path}/git/refs",
            what=f"creating the branch {self.branch}",
            body={"ref": f"refs/heads/{self.branch}", "sha": head["object"]["sha"]},
            allow=(422,),  # already exists: someone else made it first
        )
        self._branch_ready = True

    def _blob_url(self, path: str) -> str:
        return f"{self._html_root()}/{self.repository}/blob/{quote(self.branch)}/{quote(path)}"
