"""Decide takes normalized charges, the rule set with its policies, clerks' answers, earlier decisions;
it returns one determination per charge with its facts, reason, people links and open question."""
