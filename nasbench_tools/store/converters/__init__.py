"""Converters of official benchmark files into :class:`~nasbench_tools.store.table.TableData`.

One module per format; they run once (``nbt convert``) and are never on the query path.
"""
