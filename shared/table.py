"""Read a hyperparameter table (a dataclass whose fields have docstrings) for help texts and results."""
import ast
import dataclasses
import inspect
import textwrap


def field_docs(table_class):
    """``{field name: its docstring}``, read from the class's source (Python keeps no field docstrings)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(table_class)))
    body = tree.body[0].body
    docs = {}
    for statement, following in zip(body, body[1:]):
        if (isinstance(statement, ast.AnnAssign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)):
            docs[statement.target.id] = following.value.value.strip()
    return docs


def help_text(table, title):
    """The table as an ``--help`` epilog: one line per field, its value and what it sets."""
    docs = field_docs(type(table))
    lines = [title]
    for field in dataclasses.fields(table):
        lines.append(f'  {field.name} = {getattr(table, field.name)!r}')
        lines.append(textwrap.fill(docs.get(field.name, ''), width=96, initial_indent=' ' * 6,
                                   subsequent_indent=' ' * 6))
    return '\n'.join(lines)


def as_record(table):
    """The table as a plain dictionary, for ``result.json`` and ``trace.json``."""
    return dataclasses.asdict(table)
