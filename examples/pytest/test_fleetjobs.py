"""A pytest + boto3 suite against `fleetjobs serve --test-mode` (README "The test double").

It resets between tests through moto's unsigned /moto-api/reset, and moves the clock through the
signed /_fleetjobs/clock. Run it with the server up and AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY set to what the server uses.
"""
import json
import os

import boto3
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:8080")
REGION = "us-east-1"


def fleetjobs(path, body=None):
    """A signed request to a /_fleetjobs/ endpoint (signed for `iot`, like the control plane)."""
    req = AWSRequest(method="POST" if body is not None else "GET", url=f"{ENDPOINT}{path}",
                     data=json.dumps(body) if body is not None else None,
                     headers={"content-type": "application/json"})
    SigV4Auth(botocore.session.get_session().get_credentials(), "iot", REGION).add_auth(req)
    answer = requests.request(req.method, req.url, data=req.body, headers=dict(req.headers))
    answer.raise_for_status()
    return answer.json()


@pytest.fixture(autouse=True)
def fresh_server():
    requests.post(f"{ENDPOINT}/moto-api/reset").raise_for_status()


@pytest.fixture
def iot():
    return boto3.client("iot", endpoint_url=ENDPOINT, region_name=REGION)


def test_a_paced_rollout_takes_an_hour_in_milliseconds(iot):
    fleetjobs("/_fleetjobs/seed", {
        "thingGroups": [{"thingGroupName": "lab"}],
        "things": [{"thingName": f"dev-{i}", "thingGroups": ["lab"]} for i in range(30)],
    })
    fleetjobs("/_fleetjobs/clock", {"freeze": True})
    group = iot.describe_thing_group(thingGroupName="lab")["thingGroupArn"]
    iot.create_job(jobId="paced", targets=[group], document="{}",
                   jobExecutionsRolloutConfig={"maximumPerMinute": 10})

    def released():
        d = iot.describe_job(jobId="paced")["job"]["jobProcessDetails"]
        return d["numberOfQueuedThings"] + d["numberOfInProgressThings"]

    assert released() == 10
    fleetjobs("/_fleetjobs/clock", {"advanceSeconds": 60})
    assert released() == 20
    fleetjobs("/_fleetjobs/clock", {"advanceSeconds": 3600})
    assert released() == 30


def test_each_test_starts_from_a_fresh_server(iot):
    assert iot.list_things()["things"] == []
