# The .py files here are jupytext twins of the notebooks, for review; the
# notebooks themselves are executed by nbmake, so pytest must not import these.
collect_ignore_glob = ["*.py"]
