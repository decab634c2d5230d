"""What the cargo and Bazel builders share: a cache, a progress listener and the builder image.

Which image a build runs in, in this order: ``images`` (platform -> reference; the plugin's
``builder_image`` fixture) when given; else ``image``, forced for every platform; else, with
``image_source="public"``, the builder's public multi-arch image; else our own local image, built
once per machine. A forced or public image must be present already: offline mode never pulls.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypedDict

from ..cache import Cache
from ..containers.images import builder_image_ref, require_image
from ..platforms import Platform
from ..progress import Progress

if TYPE_CHECKING:
    from ..containers.images import BuilderKind


class BuilderOptions(TypedDict, total=False):
    """The constructor options both builders take (see the module docstring)."""

    image: str | None
    image_source: str
    progress: Progress | None
    images: Callable[[Platform], str] | None


class ContainerBuilder(ABC):
    """Base of the builders: holds the shared options and chooses the image."""

    name: ClassVar[BuilderKind]

    def __init__(
        self,
        cache: Cache | None = None,
        *,
        image: str | None = None,
        image_source: str = "local",
        progress: Progress | None = None,
        images: Callable[[Platform], str] | None = None,
    ) -> None:
        self.cache = cache or Cache()
        self.image = image
        self.image_source = image_source
        self.progress: Progress = progress or (lambda _message: None)
        self.images = images

    @property
    def local_image(self) -> bool:
        """True unless a forced or public image is asked for."""
        return not self.image and self.image_source == "local"

    def image_for(self, platform: Platform) -> str:
        """The builder image for ``platform``, in the order of the module docstring."""
        if self.images is not None:
            return self.images(platform)
        if not self.local_image:
            return require_image(self.image or builder_image_ref(platform, "public", self.name), platform)
        return self.local_image_for(platform)

    @abstractmethod
    def local_image_for(self, platform: Platform) -> str:
        """Our own image for ``platform``, built once per machine if missing."""
