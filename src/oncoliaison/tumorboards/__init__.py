"""Multidisciplinary tumor boards: conference series, case submission, case packets, meetings in a room or
by video, recommendations that become care-plan tasks, concordance, and the CoC standard 2.5 report."""
