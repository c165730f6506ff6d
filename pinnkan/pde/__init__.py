"""What a problem is: geometry, fields and derivatives, conditions, coefficients, Problem."""
