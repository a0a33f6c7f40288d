"""Elastic Load Balancing v2 (`elbv2`): application load balancers with Lambda targets.

The subset a Lambda target needs: load balancers (no EC2: subnets and security groups are stored as given),
target groups of type `lambda`, listeners with forward / fixed-response / redirect actions and rules matched
by path, host, header, query string, method and source address. `records` holds the resources, `engine`
keeps them durable and answers which action a request gets, `provider` is the API, and the HTTP side is the
front door in `lamina.front_doors.alb`.
"""
