"""Optimal assignment of registrants to working tables from their ranked preferences.

Maximise first the number of people seated at one of their chosen tables, then how high those
choices were ranked, within every table's capacity. It is a rectangular assignment problem
(people × seats), solved exactly by scipy's linear_sum_assignment (a Hungarian-type algorithm):
each table appears once per seat, seating someone at their k-th choice costs k-1, and at a table
they did not choose costs more than any number of better rankings could save.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Assignment:
    seats: dict[int, int]  # person id → table id
    unseated: list[int]  # people left without a seat (more people than seats)
    satisfied: int  # people seated at one of their choices
    first_choices: int = 0  # of those, people seated at their first choice


def assign(preferences: dict[int, list[int]], capacities: dict[int, int]) -> Assignment:
    """`preferences`: person → table ids, best first; `capacities`: table → free seats."""
    people = sorted(preferences)
    seats = [table for table in sorted(capacities) for _ in range(capacities[table])]
    if not people or not seats:
        return Assignment({}, people, 0)
    worst_rank = max((len(p) for p in preferences.values()), default=0)
    # Larger than the rank costs of everyone together: one more satisfied person always wins.
    unchosen = worst_rank * len(people) + 1
    cost = np.full((len(people), len(seats)), unchosen, dtype=np.int64)
    for row, person in enumerate(people):
        for rank, table in enumerate(preferences[person]):
            for column, seat_table in enumerate(seats):
                if seat_table == table:
                    cost[row, column] = rank
    rows, columns = linear_sum_assignment(cost)
    result = {people[r]: seats[c] for r, c in zip(rows, columns, strict=True)}
    satisfied = sum(1 for r, c in zip(rows, columns, strict=True) if cost[r, c] < unchosen)
    first_choices = sum(1 for r, c in zip(rows, columns, strict=True) if cost[r, c] == 0)
    return Assignment(result, [p for p in people if p not in result], satisfied, first_choices)
