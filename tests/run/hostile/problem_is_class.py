from pinnkan import Problem

problem = Problem
