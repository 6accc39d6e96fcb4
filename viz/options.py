"""The words a drawing takes: views, directions, collapse levels and file formats.

One light module (no engine, no subprocess), so the command line builds its
parser from these names without loading the renderer.

>>> "png" in FORMATS, "html" in FRAME_FORMATS, "dot" in FRAME_FORMATS
(True, True, True)
"""

VIEWS = ("forward", "backward", "both")
RANKDIRS = ("LR", "TB", "RL", "BT")
COLLAPSES = ("neuron", "layer")
FORMATS = ("svg", "png", "pdf", "dot")  # what Drawing.save writes, by extension
FRAME_FORMATS = ("gif", "html") + FORMATS  # what Frames.save writes, by extension
