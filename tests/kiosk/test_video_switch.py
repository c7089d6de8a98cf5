"""The terminal picture at a clip switch: strips made from a frame of the clip before the
switch (`FrameBoard.first_seq`) are never drawn, and their lines are redrawn with the next."""

from __future__ import annotations

from textual.strip import Strip

from kiosk.messages import FrameReady
from kiosk.widgets.video import VideoView


class Board:
    first_seq = 1

    def set_size(self, width: int, height: int) -> None:
        pass

    def wait(self, after: int, timeout: float) -> None:
        return None


def test_strips_of_a_frame_before_the_switch_are_not_drawn() -> None:
    board = Board()
    view = VideoView(board)  # type: ignore[arg-type]
    old = [Strip.blank(4)]
    view._latest, view._latest_seq, view._dirty, view._posted = old, 7, {0, 2}, True
    board.first_seq = 8  # the switch came after frame 7 was taken for conversion
    view.on_frame_ready(FrameReady())
    assert view.frames_drawn == 0 and view._shown == []
    assert view._latest is None and not view._posted
    assert view._dirty == {0, 2}  # redrawn with the new clip's first frame
